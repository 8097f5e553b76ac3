// shout — the smallest connector: a sink that writes every message it is given to the log, in capitals if asked.
// It is the example of docs/plugin-guide.md; copy this folder to start your own.
#include <relais/plugin.hpp>

#include <cctype>

class Shout : public relais::Plugin {
public:
    explicit Shout(relais::Host &host)
        : Plugin(host), prefix_(host.config_string("prefix")), capitals_(host.config_bool("capitals")) {}

    relais::DeliverResult deliver(const relais::Message &, const relais::Delivery &d) override {
        std::string line = d.rendered;
        if (capitals_)
            for (char &c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        host().log_info(prefix_ + line);
        host().counter_add("shouted");
        return relais::DeliverResult::ok();
    }

private:
    std::string prefix_;
    bool capitals_;
};

static const relais_config_key shout_keys[] = {
    {"prefix", RELAIS_CONFIG_STRING, "!! ", 0, "written before each message"},
    {"capitals", RELAIS_CONFIG_BOOL, "false", 0, "write the message in capitals"},
};

RELAIS_PLUGIN(Shout, "shout", "1.0.0", "Writes every message it is given to the log", RELAIS_CAP_SINK,
              RELAIS_LEVEL_INTERNAL, shout_keys)
