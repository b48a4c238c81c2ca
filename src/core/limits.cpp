#include "core/limits.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>

namespace atomfp {

int64_t limit_value(const ResourceLimit& limit) {
    const char* text = std::getenv(limit.variable);
    if (!text || !*text) return limit.fallback;
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value <= 0) {
        fail(Status::invalid_argument, limit.variable, " must be a positive integer (the limit on ", limit.what,
             "), got '", std::string(text).substr(0, 32), "'");
    }
    return static_cast<int64_t>(value);
}

}  // namespace atomfp
