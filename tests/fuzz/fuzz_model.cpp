// Any byte string must load as a model or give a status: the loader is fed the fuzzer's bytes with
// a valid checksum appended, so that mutations reach the header and block parsers behind the
// checksum. A loaded model must save and load again to the same bytes.
#include "core/error.hpp"
#include "models/model_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    // FNV-1a 64 of everything before it, as the format defines (docs/model_file.md).
    uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
    for (int k = 0; k < 8; ++k) bytes.push_back(static_cast<char>((hash >> (8 * k)) & 0xff));
    try {
        const atomfp::Model model = atomfp::deserialize_model(bytes, "fuzz.afp");
        const std::string saved = atomfp::serialize_model(model);
        const atomfp::Model again = atomfp::deserialize_model(saved, "fuzz-again.afp");
        if (atomfp::serialize_model(again) != saved) __builtin_trap();
    } catch (const atomfp::Error&) {
    }
    return 0;
}
