// file: appends each delivery to a file, one line each, as JSON or text.
#include <relais/message_line.hpp>

#include <relais/plugin.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace relais::file_sink {
using namespace lines;
namespace {

std::string resolve_path(const std::string &configured, const std::string &data_dir) {
    std::filesystem::path p(configured);
    if (p.is_relative() && !data_dir.empty()) p = std::filesystem::path(data_dir) / p;
    return p.string();
}

Format read_format(const Host &host) {
    std::string name = host.config_string("format", "json");
    auto f = parse_format(name);
    if (!f) throw ConfigError("format", "expected json or text, got \"" + name + "\"");
    return *f;
}

} // namespace

class FileSink : public Plugin {
public:
    explicit FileSink(Host &host)
        : Plugin(host), path_(resolve_path(host.config_required("path"), host.data_dir())),
          format_(read_format(host)), fsync_(host.config_bool("fsync", false)) {}
    ~FileSink() override { close_file(); }

    void start() override {
        std::lock_guard lock(mutex_);
        std::string error;
        if (!open_file(error)) host().log_error(error + "; each delivery will be retried until it can be opened");
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        using namespace std::chrono;
        int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        std::string line = format_line(format_, m, d, now);

        std::lock_guard lock(mutex_);
        std::string error;
        if (!ensure_open(error)) return failure(error);
        struct stat st {};
        if (::fstat(fd_, &st) != 0) return failure(describe("cannot read the size of"));
        off_t start = st.st_size;

        size_t written = 0;
        while (written < line.size()) {
            ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                error = describe("cannot write to");
                undo(start, written);
                return failure(error);
            }
            written += static_cast<size_t>(n);
        }
        if (fsync_ && ::fsync(fd_) != 0) {
            error = describe("cannot sync");
            undo(start, written);
            return failure(error);
        }
        host().counter_add("lines_written");
        return DeliverResult::ok(std::to_string(start)); // the byte offset of the line in the file
    }

    void stop() override {
        std::lock_guard lock(mutex_);
        close_file();
    }

private:
    std::string describe(const char *what) const {
        return std::string(what) + " " + path_ + ": " + std::strerror(errno);
    }

    DeliverResult failure(const std::string &error) {
        host().counter_add("write_errors");
        close_file(); // the next delivery opens the file afresh
        return DeliverResult::retry(error + " (will retry)", 1000);
    }

    // A line written in part would be followed by the whole line on the retry: cut it off again, unless someone
    // else wrote after it.
    void undo(off_t start, size_t written) {
        struct stat st {};
        if (written > 0 && ::fstat(fd_, &st) == 0 && st.st_size == start + static_cast<off_t>(written))
            (void)::ftruncate(fd_, start);
    }

    bool open_file(std::string &error) {
        std::error_code ec;
        std::filesystem::path parent = std::filesystem::path(path_).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent, ec); // open() below reports what fails
        fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd_ < 0) {
            error = describe("cannot open") + " for appending";
            return false;
        }
        return true;
    }

    // Opens the file when it is closed, and again when it was moved or replaced (log rotation).
    bool ensure_open(std::string &error) {
        if (fd_ >= 0) {
            struct stat on_disk {}, open_one {};
            if (::stat(path_.c_str(), &on_disk) == 0 && ::fstat(fd_, &open_one) == 0 &&
                on_disk.st_dev == open_one.st_dev && on_disk.st_ino == open_one.st_ino)
                return true;
            host().log_info(path_ + " was moved or replaced: opening it again");
            close_file();
        }
        return open_file(error);
    }

    void close_file() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    std::string path_;
    Format format_;
    bool fsync_;
    std::mutex mutex_;
    int fd_ = -1;
};

} // namespace relais::file_sink

static const relais_config_key file_keys[] = {
    {"path", RELAIS_CONFIG_STRING, nullptr, 1,
     "the file to append to; a relative path is under the instance's data folder; missing folders are created"},
    {"format", RELAIS_CONFIG_STRING, "json", 0,
     "json: one JSON object a line (the message, rendered and to_channel); text: \"[time] network/channel author: "
     "rendered\""},
    {"fsync", RELAIS_CONFIG_BOOL, "false", 0,
     "sync each line to disk before reporting it delivered (slower; survives a power cut)"},
};

RELAIS_PLUGIN(relais::file_sink::FileSink, "file", "1.0.0", "Appends each delivered message to a file, one line each",
              RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, file_keys)
