#include "process.hpp"

#include "measure.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace relais::bench {

namespace {
sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}
} // namespace

uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
        throw std::runtime_error(std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
    ::close(fd);
    return ntohs(a.sin_port);
}

bool wait_listening(uint16_t port, double timeout_s) {
    double deadline = wall_seconds() + timeout_s;
    while (wall_seconds() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        auto a = loopback(port);
        bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return true;
        ::usleep(20'000);
    }
    return false;
}

std::string make_temp_dir(const std::string &prefix) {
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("cannot create a folder " + pattern + ": " + std::strerror(errno));
    return pattern;
}

void remove_tree(const std::string &dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

void write_file(const std::string &path, const std::string &text) {
    std::ofstream f(path);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string &path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

Child::Child(const std::vector<std::string> &argv, const std::string &log_path) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));
    std::vector<char *> args;
    for (auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(log);
    if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
}

Child::~Child() { stop(); }

bool Child::running() {
    if (reaped_) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
}

int Child::stop(double timeout_s) {
    if (pid_ <= 0) return -1;
    if (running()) {
        ::kill(pid_, SIGTERM);
        double deadline = wall_seconds() + timeout_s;
        while (running() && wall_seconds() < deadline) ::usleep(10'000);
        if (running()) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
            reaped_ = true;
            return -1;
        }
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

ProcessFigures read_process(pid_t pid) {
    ProcessFigures f;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) f.rss_mib = std::atof(line.c_str() + 6) / 1024.0;
        if (line.rfind("VmHWM:", 0) == 0) f.hwm_mib = std::atof(line.c_str() + 6) / 1024.0;
        if (line.rfind("RssAnon:", 0) == 0) f.anon_mib = std::atof(line.c_str() + 8) / 1024.0;
    }
    // /proc/PID/stat: fields 14 and 15 (utime, stime) come after the command name, which may hold spaces.
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren != std::string::npos) {
        std::istringstream rest(stat.substr(close_paren + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        f.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    return f;
}

RssSampler::RssSampler(pid_t pid) : pid_(pid) {
    thread_ = std::thread([this] {
        while (!stop_.load()) {
            auto now = read_process(pid_);
            long kib = static_cast<long>(now.rss_mib * 1024.0), anon = static_cast<long>(now.anon_mib * 1024.0);
            if (kib > peak_kib_.load()) peak_kib_.store(kib);
            if (anon > peak_anon_kib_.load()) peak_anon_kib_.store(anon);
            ::usleep(5'000);
        }
    });
}

RssSampler::~RssSampler() {
    stop_.store(true);
    thread_.join();
}

} // namespace relais::bench
