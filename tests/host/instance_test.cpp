// A plugin instance at the ABI boundary, with a plugin description written here (no library to load).
#include "core/utf8.hpp"
#include "plugins/instance.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace relais;

namespace {
// A sink that fails every delivery, giving a reason that is not UTF-8 and an id of its own bytes.
void *create(relais_host *, const relais_host_api *, char *, size_t) {
    static int self;
    return &self;
}
int start(void *, char *, size_t) { return 0; }
void deliver(void *, const relais_message *, const relais_delivery *, relais_deliver_result *result) {
    static const char error[] = "HTTP 400: caf\xe9 refus\xe9"; // Latin-1, as some servers answer
    static const char id[] = "id-\xff";
    result->status = RELAIS_FAILED;
    result->error = {error, sizeof error - 1};
    result->native_id = {id, sizeof id - 1};
}
// One hit, written by an archive that kept bytes as they came.
int search(void *, const relais_search *, relais_search_hit_fn hit, void *user, char *, size_t) {
    static const char text[] = "caf\xe9", link[] = "https://example.org/\xff", snippet[] = "[caf\xe9]";
    relais_str links[] = {{link, sizeof link - 1}};
    relais_message m{};
    m.struct_size = sizeof m;
    m.text = {text, sizeof text - 1};
    m.links = links;
    m.links_len = 1;
    hit(user, &m, {snippet, sizeof snippet - 1}, 1.0);
    return 0;
}
void stop(void *) {}
void destroy(void *) {}
} // namespace

TEST_CASE("a failure reason or a search hit a plugin gives that is not UTF-8 is repaired, its ids are kept") {
    relais_plugin_info info{};
    info.struct_size = sizeof info;
    info.abi_major = RELAIS_ABI_MAJOR;
    info.abi_minor = 0;
    info.name = "latin1-sink";
    info.version = "1";
    info.description = "test";
    info.capabilities = RELAIS_CAP_SINK | RELAIS_CAP_ARCHIVE;
    info.default_level = RELAIS_LEVEL_INTERNAL;
    info.config_key_size = sizeof(relais_config_key);
    info.create = create;
    info.start = start;
    info.deliver = deliver;
    info.search = search;
    info.stop = stop;
    info.destroy = destroy;
    LoadedPlugin plugin;
    plugin.name = info.name;
    plugin.info = &info;
    InstanceConfig config;
    config.id = "sink";
    config.use = info.name;
    HostServices services;
    services.data_dir = (std::filesystem::temp_directory_path() / "relais-instance-test").string();
    PluginInstance instance(plugin, config, services);
    std::string error;
    REQUIRE(instance.create(error));
    DeliveryJob job;
    job.message.text = "hello";
    DeliveryOutcome outcome = instance.deliver(job, "");
    CHECK(outcome.status == RELAIS_FAILED);
    CHECK(valid_utf8(outcome.error));
    CHECK(outcome.error == "HTTP 400: caf\xEF\xBF\xBD refus\xEF\xBF\xBD");
    CHECK(outcome.native_id == "id-\xff");

    std::vector<SearchHit> hits; // shown as JSON by the admin API and `relais archive search`
    REQUIRE(instance.search({"café", 20, RELAIS_SEARCH_NEWEST}, hits, error));
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].message.text == "caf\xEF\xBF\xBD");
    CHECK(hits[0].message.links.at(0) == "https://example.org/\xEF\xBF\xBD");
    CHECK(hits[0].snippet == "[caf\xEF\xBF\xBD]");
}
