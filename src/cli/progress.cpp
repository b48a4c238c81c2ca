#include "cli/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace atomfp::cli {

ProgressBar::ProgressBar(std::string unit) : unit_(std::move(unit)), enabled_(isatty(STDERR_FILENO) != 0) {}

void ProgressBar::show(const std::string& stage, int64_t done, int64_t total, const std::string& unit) const {
    if (!enabled_) return;
    const int width = 40;
    const int filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
    std::fprintf(stderr, "\r%s[%s%s] %lld/%lld %s", stage.empty() ? "" : (stage + " ").c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<long long>(done), static_cast<long long>(total),
                 (unit.empty() ? unit_ : unit).c_str());
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
}

}  // namespace atomfp::cli
