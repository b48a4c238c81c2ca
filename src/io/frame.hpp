// One structure as read from a file: atoms, cell and periodicity, and whatever reference values it
// carries. Every front end (training, prediction, the analysis commands) works on frames; the
// readers and writers (io/extxyz.hpp) produce and consume them.
#pragma once

#include "core/mat3.hpp"
#include "core/neighbour_list.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace atomfp {

struct Frame {
    std::vector<int32_t> species;  // atomic numbers
    std::vector<double> positions;  // [n][3] Å
    std::optional<Mat3> cell;       // rows are lattice vectors
    std::array<bool, 3> pbc{false, false, false};
    std::optional<double> energy;  // eV
    std::vector<double> forces;    // [n][3] eV/Å, or empty
    std::optional<Mat3> stress;    // eV/Å^3, ASE sign convention
    std::optional<Mat3> virial;    // eV
    std::map<std::string, std::string> info;  // every other comment-line key, raw text

    int64_t size() const { return static_cast<int64_t>(species.size()); }
};

// A full neighbour list of a frame for `cutoff`: open, periodic or mixed as the frame's pbc says.
NeighbourList neighbours_of(const Frame& frame, double cutoff);

// The virial of a frame from `virial`, or from `stress` and the cell (W = -V stress); none otherwise.
std::optional<Mat3> reference_virial(const Frame& frame);

}  // namespace atomfp
