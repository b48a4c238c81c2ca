// Chemical symbols of the elements, for host-code glue that speaks in symbols (KIM species names,
// XYZ files) while atomfp speaks in atomic numbers.
#ifndef ATOMFP_INTERFACES_ELEMENT_SYMBOLS_HPP
#define ATOMFP_INTERFACES_ELEMENT_SYMBOLS_HPP

#include <string>

namespace atomfp_interfaces {

inline const char* const* element_symbol_table() {
    static const char* const symbols[] = {
        "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",  "S",
        "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
        "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",
        "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho",
        "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po",
        "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md",
        "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};
    return symbols;
}

constexpr int max_atomic_number = 118;

// "" for an atomic number outside 1..118.
inline std::string element_symbol(int z) {
    return (z >= 1 && z <= max_atomic_number) ? element_symbol_table()[z] : "";
}

// 0 for an unknown symbol.
inline int atomic_number(const std::string& symbol) {
    for (int z = 1; z <= max_atomic_number; ++z) {
        if (symbol == element_symbol_table()[z]) return z;
    }
    return 0;
}

}  // namespace atomfp_interfaces

#endif
