/* Test fixture for `isolate: true`: a library sink that logs what it is given and dereferences NULL on the first
 * message whose text is "crash" (once per data folder: a marker file remembers it). Run in the host's process it
 * would take the host down; isolated, only its child dies and the host restarts it. */
#include <relais/plugin.h>

#include <stdio.h>
#include <string.h>

typedef struct state {
    relais_host *host;
    const relais_host_api *api;
} state;

static state the_state;

static void *create(relais_host *h, const relais_host_api *api, char *err, size_t n) {
    (void)err; (void)n;
    the_state.host = h;
    the_state.api = api;
    return &the_state;
}
static int start(void *self, char *err, size_t n) { (void)self; (void)err; (void)n; return 0; }
static void deliver(void *self, const relais_message *m, const relais_delivery *d, relais_deliver_result *r) {
    state *s = (state *)self;
    (void)d;
    if (m->text.len == 5 && memcmp(m->text.data, "crash", 5) == 0) {
        relais_str dir = s->api->data_dir(s->host);
        char marker[4096];
        snprintf(marker, sizeof marker, "%.*s/crashed-once", (int)dir.len, dir.data);
        FILE *f = fopen(marker, "r");
        if (!f) {
            f = fopen(marker, "w");
            if (f) fclose(f);
            *(volatile int *)0 = 1; /* a real crash: SIGSEGV */
        } else {
            fclose(f);
        }
    }
    char line[512];
    int len = snprintf(line, sizeof line, "crash-once got: %.*s", (int)m->text.len, m->text.data);
    relais_str text = {line, (size_t)(len < (int)sizeof line ? len : (int)sizeof line - 1)};
    s->api->log(s->host, RELAIS_LOG_INFO, text);
    r->status = RELAIS_DELIVERED;
}
static void stop(void *self) { (void)self; }
static void destroy(void *self) { (void)self; }

RELAIS_EXPORT const relais_plugin_info *relais_plugin_entry(void) {
    static const relais_plugin_info info = {sizeof(relais_plugin_info), RELAIS_ABI_MAJOR, RELAIS_ABI_MINOR,
                                            "crash-once", "1.0.0", "a test fixture that crashes once",
                                            RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, 0, 0, sizeof(relais_config_key),
                                            create, start, deliver, 0, stop, destroy, 0};
    return &info;
}
