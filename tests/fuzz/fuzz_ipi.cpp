// Any byte stream from an i-PI server must end the session normally or with an error, never with a
// crash, a hang or an allocation beyond what was received. The client's message loop is fed the
// fuzzer's bytes as the server's side of the conversation; each configuration goes through the real
// neighbour-list build and a descriptor, so hostile cells and positions reach the library too.
#include "atomfp.h"
#include "ipi_session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

class MemoryChannel : public atomfp_ipi::Channel {
public:
    MemoryChannel(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    void read_exact(void* out, size_t size, bool at_message_start) override {
        if (position_ == size_ && at_message_start) throw atomfp_ipi::Closed{};
        if (size > size_ - position_) throw atomfp_ipi::Failure("the stream ends in the middle of a message");
        std::memcpy(out, data_ + position_, size);
        position_ += size;
    }
    void write_exact(const void*, size_t size) override { written_ += size; }

private:
    const uint8_t* data_;
    size_t size_;
    size_t position_ = 0;
    size_t written_ = 0;
};

atomfp_descriptor_t* descriptor = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Keep each input cheap: a forged cell then ends in a refusal rather than a long computation.
    setenv("ATOMFP_MAX_NEIGHBOUR_PAIRS", "100000", 1);
    setenv("ATOMFP_MAX_NEIGHBOURS", "1000", 1);
    if (atomfp_descriptor_create(R"({"type":"acsf","species":[14],"cutoff":3.0})", &descriptor) != ATOMFP_OK) {
        std::abort();
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    MemoryChannel channel(data, size);
    atomfp_ipi::SessionOptions options;
    options.max_atoms = 1000;
    options.close_ends_session = (size & 1) != 0;
    int64_t n_features = 0;
    atomfp_descriptor_feature_count(descriptor, &n_features);
    const auto compute = [&](const std::vector<double>& positions, const double* cell, double& energy,
                             std::vector<double>& forces, double* virial, std::string&) {
        const int64_t n = static_cast<int64_t>(positions.size() / 3);
        const std::vector<int32_t> species(static_cast<size_t>(n), 14);
        atomfp_neighbours_t* list = nullptr;
        if (atomfp_neighbours_build(n, positions.data(), species.data(), cell, nullptr, 3.0, &list) != ATOMFP_OK) {
            throw atomfp_ipi::Failure(atomfp_last_error());
        }
        atomfp_system_t system;
        std::vector<double> features(static_cast<size_t>(n * n_features));
        atomfp_status_t status = atomfp_neighbours_system(list, &system);
        if (status == ATOMFP_OK) status = atomfp_descriptor_compute(descriptor, &system, features.data(), nullptr);
        atomfp_neighbours_free(list);
        if (status != ATOMFP_OK) throw atomfp_ipi::Failure(atomfp_last_error());
        energy = 0;
        for (double f : features) energy += f;
        for (double& f : forces) f = 0;
        for (int k = 0; k < 9; ++k) virial[k] = 0;
    };
    try {
        atomfp_ipi::serve(channel, options, compute);
    } catch (const atomfp_ipi::Failure&) {
    }
    return 0;
}
