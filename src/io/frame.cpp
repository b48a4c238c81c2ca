#include "io/frame.hpp"

#include <cmath>

namespace atomfp {

std::string config_type_of(const Frame& frame, const std::string& fallback) {
    const auto it = frame.info.find("config_type");
    return it == frame.info.end() ? fallback : it->second;
}

NeighbourList neighbours_of(const Frame& frame, double cutoff) {
    const int32_t pbc[3] = {frame.pbc[0], frame.pbc[1], frame.pbc[2]};
    return build_neighbour_list(frame.size(), frame.positions.data(), frame.species.data(),
                                frame.cell ? frame.cell->data() : nullptr, pbc, cutoff);
}

std::optional<Mat3> reference_virial(const Frame& frame) {
    if (frame.virial) return frame.virial;
    if (frame.stress && frame.cell) {
        Mat3 w = *frame.stress;
        const double volume = std::abs(determinant(*frame.cell));
        for (double& x : w) x *= -volume;
        return w;
    }
    return std::nullopt;
}

}  // namespace atomfp
