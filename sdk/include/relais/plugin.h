/*
 * relais/plugin.h — the whole plugin ABI of Relais.
 *
 * This C header is the only thing that crosses the boundary between the host and a plugin.
 * No C++ type, exception or allocator crosses it. See docs/plugin-guide.md and
 * docs/abi-compatibility.md.
 *
 * Ownership is in the names and the comments:
 *  - relais_host (opaque) belongs to the host; a plugin keeps the pointer it was given in create().
 *  - `void *self` is the plugin's own instance state, returned by create() and given back in every call.
 *  - Every relais_str handed to a callback is borrowed: valid only until that callback returns.
 *
 * Growth rule: every struct that may grow starts with `uint32_t struct_size`. New fields are only ever
 * appended, and a reader never touches a field beyond the struct_size the writer declared. Adding a field
 * bumps RELAIS_ABI_MINOR; removing, reordering or changing the meaning of a field bumps RELAIS_ABI_MAJOR.
 */
#ifndef RELAIS_PLUGIN_H
#define RELAIS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RELAIS_ABI_MAJOR 1
#define RELAIS_ABI_MINOR 3

#if defined(_WIN32)
#define RELAIS_EXPORT __declspec(dllexport)
#else
#define RELAIS_EXPORT __attribute__((visibility("default")))
#endif

/* A borrowed UTF-8 string: not NUL-terminated, `data` may be NULL when `len` is 0. */
typedef struct relais_str {
    const char *data;
    size_t len;
} relais_str;

typedef struct relais_pair {
    relais_str key;
    relais_str value;
} relais_pair;

/* What a message is. */
typedef enum relais_kind {
    RELAIS_KIND_POST = 0,
    RELAIS_KIND_REPLY = 1,
    RELAIS_KIND_EDIT = 2,
    RELAIS_KIND_DELETE = 3,
    RELAIS_KIND_REACTION = 4
} relais_kind;

/* Levels of confidentiality, ordered: a message never reaches an instance whose level is lower. */
typedef enum relais_level {
    RELAIS_LEVEL_UNSET = -1, /* on emit: the host applies the source instance's level */
    RELAIS_LEVEL_PUBLIC = 0,
    RELAIS_LEVEL_INTERNAL = 1,
    RELAIS_LEVEL_CONFIDENTIAL = 2,
    RELAIS_LEVEL_SECRET = 3
} relais_level;

typedef struct relais_attachment {
    uint32_t struct_size;
    relais_str url;
    relais_str mime_type;
    relais_str name;
    uint64_t size_bytes; /* 0 when unknown */
} relais_attachment;

/* The one message model of every network. Arrays are borrowed like strings. */
typedef struct relais_message {
    uint32_t struct_size;
    relais_str id;        /* sortable id (ULID) given by the host; leave empty on emit */
    relais_str source;    /* plugin instance id; set by the host on emit */
    relais_str network;   /* plugin name (rss, webhook, xmpp…); set by the host on emit */
    relais_str channel;   /* room, channel, feed… within the source instance */
    relais_str native_id; /* the id the network gave this message */
    int32_t kind;         /* relais_kind */
    relais_str author;    /* display name */
    relais_str author_id; /* handle, address or account id on the network */
    relais_str text;
    const relais_str *tags; /* without the leading '#' */
    size_t tags_len;
    const relais_str *mentions; /* handles or addresses mentioned */
    size_t mentions_len;
    const relais_str *links; /* the first link is the message's own permalink when it has one */
    size_t links_len;
    const relais_attachment *const *attachments;
    size_t attachments_len;
    relais_str thread_id; /* native id of the thread's first message */
    relais_str reply_to;  /* native id of the message this one answers, edits, deletes or reacts to */
    int32_t level;        /* relais_level */
    relais_str language;  /* BCP 47 tag, empty when unknown */
    int64_t created_at_ms;  /* when the network says it was written (Unix ms), 0 when unknown */
    int64_t received_at_ms; /* when the host accepted it; set by the host on emit */
    const relais_str *trace; /* instance ids the message passed through, oldest first; host-maintained */
    size_t trace_len;
    const relais_pair *metadata; /* free key/value pairs, network-specific */
    size_t metadata_len;
} relais_message;

/* Results of host services. */
#define RELAIS_OK 0
#define RELAIS_NOT_FOUND 1
#define RELAIS_E_INVALID (-1)  /* the call's arguments are wrong */
#define RELAIS_E_STOPPING (-2) /* the host is shutting down: keep the message and try later */
#define RELAIS_E_STORAGE (-3)  /* the host could not store it: keep the message and try later */
#define RELAIS_E_TYPE (-4)     /* a config value exists but is not of the asked shape */

/* Log levels for relais_host_api.log. */
typedef enum relais_log_level {
    RELAIS_LOG_DEBUG = 0,
    RELAIS_LOG_INFO = 1,
    RELAIS_LOG_WARN = 2,
    RELAIS_LOG_ERROR = 3
} relais_log_level;

typedef struct relais_host relais_host; /* opaque, one per plugin instance, owned by the host */

typedef void (*relais_str_fn)(void *user, relais_str value);
typedef void (*relais_timer_fn)(void *user);
typedef void (*relais_emit_done_fn)(void *user, int result);

/*
 * Services the host offers a plugin instance. Every function is safe to call from any thread.
 * Config paths are dotted: "interval", "watch.mentions", "feeds.0.url" (list items by index).
 */
typedef struct relais_host_api {
    uint32_t struct_size;

    /* Config. config_get gives a scalar as text (after defaults and ${env:}/${file:} expansion):
     * RELAIS_OK, RELAIS_NOT_FOUND, or RELAIS_E_TYPE when the path names a list or a map.
     * config_size gives the item count of a list or map (0 when absent or scalar);
     * config_key gives the name of a map's index-th key. */
    int (*config_get)(relais_host *host, const char *path, relais_str *out);
    size_t (*config_size)(relais_host *host, const char *path);
    int (*config_key)(relais_host *host, const char *path, size_t index, relais_str *out);

    relais_str (*instance_id)(relais_host *host);
    /* A folder that belongs to this instance alone, created by the host. */
    relais_str (*data_dir)(relais_host *host);

    /* Hand a message to the host. RELAIS_OK means it is accepted: from then on the host answers for it.
     * On a negative result the plugin still owns the message and should offer it again later. */
    int (*emit)(relais_host *host, const relais_message *message);

    void (*log)(relais_host *host, int32_t level, relais_str text);
    /* Metrics appear in /metrics as relais_plugin_<name>{instance="…"}; names are [a-z0-9_]. */
    void (*counter_add)(relais_host *host, const char *name, double delta);
    void (*gauge_set)(relais_host *host, const char *name, double value);

    /* A small persistent key-value store, private to the instance (cursors, seen ids, tokens).
     * kv_get calls `fn` with the value and returns RELAIS_OK, or returns RELAIS_NOT_FOUND. */
    int (*kv_get)(relais_host *host, relais_str key, relais_str_fn fn, void *user);
    int (*kv_put)(relais_host *host, relais_str key, relais_str value);
    int (*kv_delete)(relais_host *host, relais_str key);

    /* Timers run on a host thread; a callback should not block for long.
     * interval_ms 0 fires once after delay_ms. Returns a non-zero id. */
    uint64_t (*timer_start)(relais_host *host, uint64_t delay_ms, uint64_t interval_ms, relais_timer_fn fn,
                            void *user);
    void (*timer_cancel)(relais_host *host, uint64_t timer_id);

    /* Since ABI 1.2: a host that offers it has a struct_size that covers it and a non-null pointer.
     * emit() without waiting for the message to be stored, so that one thread can keep many messages in flight
     * (a server answering each request once its message is stored). The host copies the message before
     * emit_async returns and calls done(user, result) exactly once, with what emit() would have returned;
     * RELAIS_OK once the message is stored. done runs on a host thread (or at once, on the caller's, when the
     * message is refused before storing), must return quickly and must not call emit(). It may run after
     * stop() returned, never after destroy(): keep what `user` points to until then. The messages one thread
     * emits this way are stored in the order of its calls. */
    void (*emit_async)(relais_host *host, const relais_message *message, relais_emit_done_fn done, void *user);

    /* Since ABI 1.3 (offered as emit_async is). emit() for `count` messages at once, in the order given: they are
     * stored in one commit, all or none, and emit_batch returns once that is done. RELAIS_OK: the host answers for
     * every one of them (the rules may have dropped some, or found repeats). On a negative result none was
     * stored: the plugin keeps them all and offers them again, in the same order. A source reading a stream (an
     * IRC channel) hands over what it has read as one batch while it reads on, one batch at a time: many lines
     * share a commit, and a refusal can never put a later line before an earlier one. */
    int (*emit_batch)(relais_host *host, const relais_message *const *messages, size_t count);
} relais_host_api;

/* What the host asks a sink to deliver, besides the message itself. */
typedef struct relais_delivery {
    uint32_t struct_size;
    relais_str channel;      /* destination channel; empty means the instance's default */
    relais_str rendered;     /* the text after the route's or the destination's template */
    relais_str delivery_key; /* the same across retries and restarts: an idempotency key */
    uint32_t attempt;        /* 1 on the first try */
    relais_str reply_to;     /* native id, on this destination, of the message this one answers or edits */
} relais_delivery;

typedef enum relais_deliver_status {
    RELAIS_DELIVERED = 0, /* done: the host forgets the message for this destination */
    RELAIS_RETRY = 1,     /* temporary failure: the host retries, after retry_after_ms if set */
    RELAIS_FAILED = 2     /* permanent failure: the host stops trying and keeps it as a dead letter */
} relais_deliver_status;

/* Filled in by deliver(). The host pre-sets struct_size and zeroes the rest. Strings the plugin sets must stay
 * valid until deliver() returns; the host copies them at once. */
typedef struct relais_deliver_result {
    uint32_t struct_size;
    int32_t status;          /* relais_deliver_status */
    uint32_t retry_after_ms; /* with RELAIS_RETRY: the network's own delay (e.g. HTTP Retry-After) */
    relais_str native_id;    /* with RELAIS_DELIVERED: the id the destination gave the message */
    relais_str error;        /* with RETRY or FAILED: why, for the log and the dead-letter store */
} relais_deliver_result;

/* Archive search, for plugins with RELAIS_CAP_ARCHIVE. */
typedef enum relais_search_order {
    RELAIS_SEARCH_NEWEST = 0, /* newest first */
    RELAIS_SEARCH_RANKED = 1  /* best match first */
} relais_search_order;

typedef struct relais_search {
    uint32_t struct_size;
    relais_str query; /* the user's words; the archive documents its syntax */
    uint32_t limit;
    int32_t order; /* relais_search_order */
} relais_search;

/* One hit: the stored message, a snippet with the matches in [brackets], and a score (higher is better). */
typedef void (*relais_search_hit_fn)(void *user, const relais_message *message, relais_str snippet, double score);

/* Typed config keys: the plugin's declaration of what its config accepts. The host checks a config against it
 * (unknown key with a did-you-mean, wrong type, missing required key) before create() sees it, and
 * `relais plugins --keys` prints it as the plugin's reference. */
typedef enum relais_config_type {
    RELAIS_CONFIG_STRING = 0,
    RELAIS_CONFIG_INT = 1,
    RELAIS_CONFIG_BOOL = 2,
    RELAIS_CONFIG_DOUBLE = 3,
    RELAIS_CONFIG_DURATION = 4, /* "30s", "5m", "1h", "250ms" or a number of seconds */
    RELAIS_CONFIG_LIST = 5,     /* a list of anything: the plugin checks the items */
    RELAIS_CONFIG_MAP = 6,      /* a map of anything: the plugin checks the keys */
    RELAIS_CONFIG_STRING_LIST = 7
} relais_config_type;

typedef struct relais_config_key {
    const char *name;
    int32_t type;              /* relais_config_type */
    const char *default_value; /* NULL: no default */
    int32_t required;          /* non-zero: the config must set it */
    const char *description;
} relais_config_key;

/* What a plugin can do. */
#define RELAIS_CAP_SOURCE 0x1u  /* emits messages */
#define RELAIS_CAP_SINK 0x2u    /* accepts deliveries */
#define RELAIS_CAP_ARCHIVE 0x4u /* stores messages and answers searches */

/*
 * The plugin's description and callbacks. The first three fields never move, in any ABI version: the host reads
 * them before anything else to decide whether it can load the plugin.
 *
 * Life of an instance: create → start → (deliver | search)* → stop → destroy.
 * create() checks the config and allocates; it must not open connections (`relais check` calls it).
 * A callback reports failure by writing a message into err (NUL-terminated, at most err_len bytes) and returning
 * NULL or non-zero. A config error message starting with "a.dotted.path: " is shown at that key's line:column.
 */
typedef struct relais_plugin_info {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *name;        /* what configs write after `use:`: [a-z0-9-]+ */
    const char *version;     /* the plugin's own version */
    const char *description; /* one line */
    uint32_t capabilities;   /* RELAIS_CAP_* */
    int32_t default_level;   /* the level an instance may receive when its config sets none */
    const relais_config_key *config_keys;
    size_t config_keys_len;
    uint32_t config_key_size; /* sizeof(relais_config_key) as the plugin was built */

    void *(*create)(relais_host *host, const relais_host_api *api, char *err, size_t err_len);
    int (*start)(void *self, char *err, size_t err_len);
    /* Called for one destination from one host thread at a time, in order. May block (network I/O). */
    void (*deliver)(void *self, const relais_message *message, const relais_delivery *delivery,
                    relais_deliver_result *result);
    int (*search)(void *self, const relais_search *search, relais_search_hit_fn hit, void *user, char *err,
                  size_t err_len);
    /* After stop() returns the plugin emits nothing more. */
    void (*stop)(void *self);
    void (*destroy)(void *self);

    /* ABI 1.1. Optional (NULL: the host calls deliver() one at a time). Delivers `count` messages of one
     * destination and channel, in order, from the thread that calls deliver(): one commit or one write for many
     * messages when a backlog builds up. results[i] is filled as deliver() fills its result (struct_size pre-set,
     * the rest zeroed). The host reads the results in order up to the first that is not RELAIS_DELIVERED and offers
     * the deliveries after it again later, so a plugin may stop there. Strings in the results must stay valid until
     * deliver_batch() returns. */
    void (*deliver_batch)(void *self, const relais_message *const *messages, const relais_delivery *const *deliveries,
                          relais_deliver_result *const *results, size_t count);
} relais_plugin_info;

/* The one symbol a plugin exports. The host calls it once after loading the library. */
typedef const relais_plugin_info *(*relais_plugin_entry_fn)(void);
#define RELAIS_PLUGIN_ENTRY_SYMBOL "relais_plugin_entry"

#ifdef __cplusplus
}
#endif

#endif /* RELAIS_PLUGIN_H */
