#include "io/input_file.hpp"

#include "core/error.hpp"
#include "core/limits.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace atomfp {

std::ifstream open_input_file(const std::string& path, const char* what, bool binary) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) fail(Status::io, "cannot open ", what, " '", path, "': ", std::strerror(errno));
    if (!S_ISREG(info.st_mode)) {
        fail(Status::io, what, " '", path, "' is ", S_ISDIR(info.st_mode) ? "a directory" : "not a regular file");
    }
    const int64_t limit = limit_value(max_input_bytes);
    if (static_cast<int64_t>(info.st_size) > limit) {
        fail(Status::io, what, " '", path, "' has ", static_cast<int64_t>(info.st_size), " bytes, more than ", limit, " (",
             max_input_bytes.variable, " raises the limit)");
    }
    std::ifstream in(path, binary ? std::ios::in | std::ios::binary : std::ios::in);
    if (!in) fail(Status::io, "cannot open ", what, " '", path, "' for reading");
    return in;
}

}  // namespace atomfp
