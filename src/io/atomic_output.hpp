// Files written whole or not at all: the data goes to a temporary file in the destination's
// directory, which is flushed to disk and renamed over the destination only when everything was
// written. A failed or interrupted write never truncates an existing file.
#pragma once

#include <fstream>
#include <string>

namespace atomfp {

class AtomicOutput {
public:
    // Throws Error(io) when no temporary file can be created next to `path`.
    explicit AtomicOutput(std::string path, bool binary = true);
    ~AtomicOutput();  // removes the temporary file unless commit() succeeded
    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;

    std::ostream& stream() { return stream_; }
    // Flushes, syncs and renames the temporary file to the destination; throws Error(io) on failure.
    void commit();

private:
    std::string path_, temporary_;
    std::ofstream stream_;
    bool committed_ = false;
};

// Throws Error(io) unless a file can be created at `path` (its directory exists and is writable,
// and `path` is not a directory): lets long computations fail before they start.
void check_writable(const std::string& path);

}  // namespace atomfp
