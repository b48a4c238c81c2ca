// Any byte string given as a descriptor specification must give a descriptor or a status code.
#include "atomfp.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    atomfp_descriptor_t* d = nullptr;
    if (atomfp_descriptor_create(text.c_str(), &d) != ATOMFP_OK) return 0;
    int64_t length = 0, n_features = 0;
    atomfp_descriptor_parameters(d, nullptr, 0, &length);
    std::vector<char> canonical(static_cast<std::size_t>(length));
    atomfp_descriptor_parameters(d, canonical.data(), length, nullptr);
    atomfp_descriptor_feature_count(d, &n_features);
    // The canonical form must itself be accepted.
    atomfp_descriptor_t* again = nullptr;
    if (atomfp_descriptor_create(canonical.data(), &again) != ATOMFP_OK) __builtin_trap();
    atomfp_descriptor_free(again);
    if (n_features > 0) {
        char label[256];
        atomfp_descriptor_feature_label(d, n_features - 1, label, sizeof label, &length);
    }
    atomfp_descriptor_free(d);
    return 0;
}
