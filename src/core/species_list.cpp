#include "core/species_list.hpp"

#include "core/error.hpp"

namespace atomfp {

SpeciesList SpeciesList::read(SpecReader& reader) {
    SpeciesList list;
    for (int32_t z : reader.element_list("species")) {
        if (list.index_[z] >= 0) fail(Status::json_error, "key 'species' lists ", z, " twice");
        list.index_[z] = static_cast<int>(list.atomic_numbers_.size());
        list.atomic_numbers_.push_back(static_cast<int32_t>(z));
    }
    if (list.atomic_numbers_.empty()) fail(Status::json_error, "key 'species' must list at least one atomic number");
    return list;
}

}  // namespace atomfp
