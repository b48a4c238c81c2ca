// Any byte string read as extended XYZ must give frames or an atomfp::Error, never a crash.
#include "core/error.hpp"
#include "io/extxyz.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream input(std::string(reinterpret_cast<const char*>(data), size));
    try {
        auto frames = atomfp::parse_extxyz(input, "fuzz");
        for (const auto& frame : frames) {
            if (frame.positions.size() != 3 * frame.species.size()) __builtin_trap();
        }
    } catch (const atomfp::Error&) {
    }
    return 0;
}
