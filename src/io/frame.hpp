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

// The property names under which a file carries the reference labels (as GAP's
// energy_parameter_name and friends). Every other key and per-atom column is kept as raw text.
struct LabelKeys {
    std::string energy = "energy", forces = "forces", stress = "stress", virial = "virial";
};

// A per-atom column that is not a label (e.g. a charge, a tag, another code's forces), kept as the
// file's text so that it can be written back unchanged.
struct ExtraColumn {
    std::string name;
    char type = 'R';                  // extended-XYZ type letter: S, R, I or L
    int64_t count = 1;                // values per atom
    std::vector<std::string> values;  // [n_atoms][count]
};

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
    std::vector<ExtraColumn> extra_columns;    // every other per-atom column, in file order

    int64_t size() const { return static_cast<int64_t>(species.size()); }
};

// A full neighbour list of a frame for `cutoff`: open, periodic or mixed as the frame's pbc says.
NeighbourList neighbours_of(const Frame& frame, double cutoff);

// The frame's "config_type" key (how training sets name a structure's kind), or `fallback`.
std::string config_type_of(const Frame& frame, const std::string& fallback = "(none)");

// The virial of a frame from `virial`, or from `stress` and the cell (W = -V stress); none otherwise.
std::optional<Mat3> reference_virial(const Frame& frame);

}  // namespace atomfp
