#include "io/atomic_output.hpp"

#include "core/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace atomfp {

namespace {

// The process's umask, read without changing it (umask() would, racing with other threads).
mode_t current_umask() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtol(line.c_str() + 6, nullptr, 8));
    }
    return 022;
}

// A new, empty file next to `path` (same directory, so that rename is atomic); its name. It gets
// the permissions an ordinary new file would have (mkstemp's are owner-only).
std::string create_temporary(const std::string& path) {
    std::string pattern = path + ".tmp-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = mkstemp(name.data());
    if (fd < 0) fail(Status::io, "cannot create a file next to '", path, "': ", std::strerror(errno));
    fchmod(fd, 0666 & ~current_umask());
    close(fd);
    return std::string(name.data());
}

void refuse_directory(const std::string& path) {
    struct stat info {};
    if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) fail(Status::io, "'", path, "' is a directory");
}

}  // namespace

AtomicOutput::AtomicOutput(std::string path, bool binary) : path_(std::move(path)) {
    refuse_directory(path_);
    temporary_ = create_temporary(path_);
    stream_.open(temporary_, binary ? std::ios::binary | std::ios::trunc : std::ios::trunc);
    if (!stream_) {
        std::remove(temporary_.c_str());
        fail(Status::io, "cannot open '", temporary_, "' for writing");
    }
}

AtomicOutput::~AtomicOutput() {
    if (!committed_) {
        stream_.close();
        std::remove(temporary_.c_str());
    }
}

void AtomicOutput::commit() {
    stream_.flush();
    if (!stream_) fail(Status::io, "failed while writing '", path_, "' (nothing was replaced)");
    stream_.close();
    // The data must be on disk before the rename makes it the destination.
    const int fd = open(temporary_.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    if (!synced) fail(Status::io, "cannot sync '", temporary_, "' to disk: ", std::strerror(errno));
    if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
        fail(Status::io, "cannot rename '", temporary_, "' to '", path_, "': ", std::strerror(errno));
    }
    committed_ = true;
}

void check_writable(const std::string& path) {
    refuse_directory(path);
    std::remove(create_temporary(path).c_str());
}

}  // namespace atomfp
