// The three relays measured, each beside its baseline in the same run: API to API, webhook to webhook (baseline:
// the trivial Beast HTTP echo, same senders, same connections) and IRC to IRC (baseline: plain clients through the
// same ngIRCd).
#pragma once

#include "tracker.hpp"

#include <string>

namespace relais::bench {

struct Options {
    std::string relais_bin, plugin_dir, ngircd_bin, ngircd_conf;
    size_t messages = 10000;
    double rate = 0;          // messages a second in all, spread over the senders; 0: as fast as they can
    double timeout_s = 120;   // for all the messages of one run to arrive
    double idle_s = 1;        // settling time before the idle memory is read
    bool keep_dirs = false;   // keep the daemon's folder (config, log, data) for a look afterwards
};

struct DaemonFigures {
    double rss_idle_mib = 0, rss_peak_mib = 0, hwm_mib = 0, cpu_s = 0;
    double anon_idle_mib = 0, anon_peak_mib = 0; // RssAnon: without shared libraries' pages
};

struct ScenarioResult {
    std::string scenario, baseline_name;
    unsigned senders = 1;
    double rate = 0;
    RunFigures relay, baseline;
    DaemonFigures daemon;
    std::string load_before, load_after;
};

ScenarioResult run_api(const Options &options, unsigned senders);
ScenarioResult run_webhook(const Options &options, unsigned senders);
ScenarioResult run_irc(const Options &options, unsigned senders);

} // namespace relais::bench
