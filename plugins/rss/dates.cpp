// dates.cpp — RFC 822 and RFC 3339 dates to Unix milliseconds, tolerant of what feeds write in practice.
#include "dates.hpp"

#include <cctype>
#include <string>

namespace relais::rss {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::optional<int64_t> to_ms(int y, int mo, int d, int h, int mi, int s, int ms, int offset_minutes) {
    static constexpr int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1) return std::nullopt;
    if (d > days_in[mo - 1] + (mo == 2 && leap(y) ? 1 : 0)) return std::nullopt;
    if (h < 0 || h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60 || (h == 24 && (mi || s))) return std::nullopt;
    if (s == 60) s = 59; // a leap second
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - int64_t{offset_minutes} * 60;
    return secs * 1000 + ms;
}

struct Cursor {
    std::string_view s;
    size_t i = 0;

    bool done() const { return i >= s.size(); }
    char peek() const { return done() ? '\0' : s[i]; }
    void skip_spaces() {
        while (!done() && (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == ',')) ++i;
    }
    bool eat(char c) {
        if (peek() != c) return false;
        ++i;
        return true;
    }
    // Up to max_digits digits; returns how many were read.
    int number(int &out, int max_digits = 9) {
        int n = 0;
        out = 0;
        while (n < max_digits && !done() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            out = out * 10 + (s[i] - '0');
            ++i;
            ++n;
        }
        return n;
    }
    std::string word() {
        std::string w;
        while (!done() && std::isalpha(static_cast<unsigned char>(s[i])))
            w += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i++])));
        return w;
    }
};

int month_of(const std::string &w) {
    static constexpr const char *names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
    if (w.size() < 3) return 0;
    for (int k = 0; k < 12; ++k)
        if (w.compare(0, 3, names[k]) == 0) return k + 1;
    return 0;
}

// A zone as minutes east of UTC: +hhmm, +hh:mm, +hh, or a name from RFC 822 (and a few common ones).
std::optional<int> zone_of(Cursor &c) {
    c.skip_spaces();
    if (c.done()) return 0; // no zone: UTC
    if (c.peek() == '+' || c.peek() == '-') {
        int sign = c.peek() == '-' ? -1 : 1;
        ++c.i;
        int hh = 0, mm = 0;
        int n = c.number(hh, 2);
        if (n != 2) return std::nullopt;
        c.eat(':');
        if (c.number(mm, 2) == 1) return std::nullopt;
        if (hh > 14 || mm > 59) return std::nullopt;
        return sign * (hh * 60 + mm);
    }
    std::string z = c.word();
    if (z == "gmt" || z == "ut" || z == "utc" || z == "z") {
        if (c.peek() == '+' || c.peek() == '-') return zone_of(c); // "GMT+0200"
        return 0;
    }
    if (z == "est") return -5 * 60;
    if (z == "edt") return -4 * 60;
    if (z == "cst") return -6 * 60;
    if (z == "cdt") return -5 * 60;
    if (z == "mst") return -7 * 60;
    if (z == "mdt") return -6 * 60;
    if (z == "pst") return -8 * 60;
    if (z == "pdt") return -7 * 60;
    if (z == "cet") return 60;
    if (z == "cest") return 120;
    if (z == "bst") return 60;
    if (z.size() == 1) return 0; // military zones: RFC 1123 says to treat them as UTC
    return std::nullopt;
}

} // namespace

std::optional<int64_t> parse_rfc822(std::string_view s) {
    Cursor c{s};
    c.skip_spaces();
    // Optional day name ("Tue," or "Tuesday,").
    if (std::isalpha(static_cast<unsigned char>(c.peek()))) {
        size_t at = c.i;
        std::string w = c.word();
        if (month_of(w) && std::isspace(static_cast<unsigned char>(c.peek()))) c.i = at; // "Jun 10 2003" form
    }
    c.skip_spaces();
    int day = 0, month = 0, year = 0;
    if (std::isdigit(static_cast<unsigned char>(c.peek()))) {
        if (c.number(day, 2) == 0) return std::nullopt;
        c.skip_spaces();
        c.eat('-');
        month = month_of(c.word());
    } else {
        month = month_of(c.word()); // "Jun 10 2003 …" (asctime-like)
        c.skip_spaces();
        if (c.number(day, 2) == 0) return std::nullopt;
    }
    if (!month) return std::nullopt;
    c.skip_spaces();
    c.eat('-');
    int digits = c.number(year, 4);
    if (digits == 2) year += year < 50 ? 2000 : 1900;
    else if (digits != 4) return std::nullopt;
    c.skip_spaces();
    int h = 0, mi = 0, sec = 0;
    if (std::isdigit(static_cast<unsigned char>(c.peek()))) {
        if (c.number(h, 2) == 0 || !c.eat(':') || c.number(mi, 2) != 2) return std::nullopt;
        if (c.eat(':') && c.number(sec, 2) != 2) return std::nullopt;
        if (c.eat('.')) {
            int frac;
            c.number(frac);
        }
    }
    auto zone = zone_of(c);
    if (!zone) return std::nullopt;
    return to_ms(year, month, day, h, mi, sec, 0, *zone);
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
    Cursor c{s};
    c.skip_spaces();
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (c.number(y, 4) != 4 || !c.eat('-') || c.number(mo, 2) != 2 || !c.eat('-') || c.number(d, 2) != 2)
        return std::nullopt;
    int offset = 0;
    if (c.peek() == 'T' || c.peek() == 't' || c.peek() == ' ') {
        ++c.i;
        if (c.number(h, 2) != 2 || !c.eat(':') || c.number(mi, 2) != 2) return std::nullopt;
        if (c.eat(':') && c.number(sec, 2) != 2) return std::nullopt;
        if (c.eat('.') || c.eat(',')) {
            int frac = 0;
            int n = c.number(frac, 3);
            if (n == 0) return std::nullopt;
            for (int k = n; k < 3; ++k) frac *= 10;
            ms = frac;
            while (std::isdigit(static_cast<unsigned char>(c.peek()))) ++c.i; // finer than milliseconds
        }
        if (c.peek() == 'Z' || c.peek() == 'z') {
            ++c.i;
        } else if (c.peek() == '+' || c.peek() == '-') {
            auto zone = zone_of(c);
            if (!zone) return std::nullopt;
            offset = *zone;
        }
    }
    c.skip_spaces();
    if (!c.done()) return std::nullopt;
    return to_ms(y, mo, d, h, mi, sec, ms, offset);
}

std::optional<int64_t> parse_date(std::string_view s) {
    if (auto v = parse_rfc3339(s)) return v;
    return parse_rfc822(s);
}

} // namespace relais::rss
