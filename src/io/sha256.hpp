// SHA-256 (FIPS 180-4) of byte strings and files: model files record the digest of the data they
// were trained on, so that a model can be traced to the exact file.
#pragma once

#include <cstdint>
#include <string>

namespace atomfp {

// Incremental: update() any number of times, then hex_digest() once.
class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t size);
    std::string hex_digest();  // 64 lower-case hex digits

private:
    void compress(const unsigned char* block);

    uint32_t state_[8];
    unsigned char buffer_[64];
    std::size_t buffered_ = 0;
    uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const std::string& bytes);
// Throws Error(io) if the file cannot be read.
std::string sha256_of_file(const std::string& path);

}  // namespace atomfp
