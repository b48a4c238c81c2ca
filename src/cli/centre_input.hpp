// The input shared by the commands that study one centre: a frame of an extended XYZ file, the
// centre's index in it, and a neighbour list for a given cutoff.
#pragma once

#include "core/neighbour_list.hpp"
#include "io/extxyz.hpp"

#include <cstdint>
#include <string>

namespace atomfp::cli {

struct CentreInput {
    Frame frame;
    int64_t frame_index = 0;
    int64_t center = 0;
    NeighbourList list;
};

// Frame `frame_index` of the extended XYZ file `path` and its list for `cutoff`; throws
// Error(invalid_argument) naming the option (--frame, --centre) that is out of range.
CentreInput read_centre_input(const std::string& path, int64_t frame_index, int64_t centre, double cutoff);

}  // namespace atomfp::cli
