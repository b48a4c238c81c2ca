// The input shared by the commands that study one centre: a frame of an extended XYZ file, the
// centre's index in it, and a neighbour list for a given cutoff.
#pragma once

#include "cli/arguments.hpp"
#include "core/neighbour_list.hpp"
#include "io/extxyz.hpp"

#include <cstdint>

namespace atomfp::cli {

struct CentreInput {
    Frame frame;
    int64_t frame_index = 0;
    int64_t center = 0;
    NeighbourList list;
};

// Reads the single positional INPUT.extxyz, "--frame K" (default 0) and "--center I"; throws
// Error(invalid_argument) naming the option that is out of range.
CentreInput read_centre_input(const Arguments& args, double cutoff);

}  // namespace atomfp::cli
