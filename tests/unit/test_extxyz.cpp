// Extended XYZ reading (ASE-compatible) and its error messages.
#include "core/error.hpp"
#include "io/extxyz.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace atomfp;

namespace {
std::vector<Frame> parse(const std::string& text) {
    std::istringstream in(text);
    return parse_extxyz(in, "test.xyz");
}

std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::format);
        return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
}
}  // namespace

TEST(Extxyz, ReadsAseStyleFrames) {
    auto frames = parse(
        "2\n"
        "Lattice=\"5.0 0 0 0 5.0 0 0 0 6.0\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.5 "
        "stress=\"1 2 3 2 4 5 3 5 6\" config_type=md300 pbc=\"T T F\"\n"
        "Si 0.0 0.1 0.2 1 2 3\n"
        "C  1.0 1.1 1.2 -1 -2 -3\n"
        "\n"
        "1\n"
        "Properties=species:S:1:pos:R:3\n"
        "H 0 0 0\n");
    ASSERT_EQ(frames.size(), 2u);
    const Frame& f = frames[0];
    EXPECT_EQ(f.species, (std::vector<int32_t>{14, 6}));
    EXPECT_EQ(f.positions[5], 1.2);
    EXPECT_EQ(f.forces[5], -3.0);
    ASSERT_TRUE(f.cell && f.energy && f.stress);
    EXPECT_EQ((*f.cell)[8], 6.0);
    EXPECT_EQ(*f.energy, -1.5);
    EXPECT_EQ((*f.stress)[5], 5.0);
    EXPECT_EQ(f.pbc, (std::array<bool, 3>{true, true, false}));
    EXPECT_EQ(f.info.at("config_type"), "md300");
    EXPECT_FALSE(frames[1].cell);
    EXPECT_EQ(frames[1].pbc, (std::array<bool, 3>{false, false, false}));
}

TEST(Extxyz, ExtraColumnsAndAtomicNumbersAndVoigtStress) {
    auto frames = parse(
        "1\n"
        "Properties=Z:I:1:tags:I:1:pos:R:3:charge:R:1 Lattice=\"3 0 0 0 3 0 0 0 3\" virial=\"1 2 3 4 5 6\"\n"
        "8 7 0.5 0.5 0.5 -0.8\n");
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].species[0], 8);
    EXPECT_EQ(frames[0].positions[2], 0.5);
    EXPECT_EQ(frames[0].pbc, (std::array<bool, 3>{true, true, true}));  // a Lattice without pbc is periodic
    EXPECT_EQ((*frames[0].virial)[1], 6.0);  // xy is the sixth Voigt entry
    EXPECT_EQ((*frames[0].virial)[5], 4.0);  // yz
}

TEST(Extxyz, WriteThenReadRoundTrips) {
    Frame f;
    f.species = {14, 1};
    f.positions = {0.1, 0.2, 0.3, 1.0 / 3.0, 2.0, 3.0};
    f.forces = {1, 2, 3, 4, 5, 6.5};
    f.cell = Mat3{5, 0, 0, 0, 5, 0, 1, 0, 5};
    f.pbc = {true, true, true};
    f.energy = -3.25;
    f.info["note"] = "hello world";
    std::ostringstream out;
    write_extxyz(out, f);
    auto back = parse(out.str());
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].positions, f.positions);
    EXPECT_EQ(back[0].forces, f.forces);
    EXPECT_EQ(*back[0].cell, *f.cell);
    EXPECT_EQ(*back[0].energy, -3.25);
    EXPECT_EQ(back[0].info.at("note"), "hello world");
}

TEST(Extxyz, MalformedFilesNameTheLineAndProblem) {
    EXPECT_NE(error_of("two\nx\n").find("test.xyz:1"), std::string::npos);
    EXPECT_NE(error_of("2\nProperties=species:S:1:pos:R:3\nSi 0 0 0\n").find("ends after 1 of 2"), std::string::npos);
    EXPECT_NE(error_of("1\nProperties=species:S:1:pos:R:3\nXx 0 0 0\n").find("test.xyz:3: 'Xx' is not a chemical symbol"),
              std::string::npos);
    EXPECT_NE(error_of("1\n\nSi 0 zero 0\n").find("test.xyz:3: pos: 'zero' is not a number"), std::string::npos);
    EXPECT_NE(error_of("1\n\nSi 0 nan 0\n").find("not finite"), std::string::npos);
    EXPECT_NE(error_of("1\n\nSi 0 0\n").find("expected 4 columns"), std::string::npos);
    EXPECT_NE(error_of("1\nLattice=\"1 2 3\"\nSi 0 0 0\n").find("Lattice must have 9 numbers"), std::string::npos);
    EXPECT_NE(error_of("1\nLattice=\"1 0 0 0 1 0 0 0 1\n").find("unterminated"), std::string::npos);
    EXPECT_NE(error_of("1\nProperties=species:S:1:pos:Q:3\nSi 0 0 0\n").find("unknown type 'Q'"), std::string::npos);
    EXPECT_NE(error_of("1\nProperties=species:S:1\nSi\n").find("no 'pos:R:3'"), std::string::npos);
    EXPECT_NE(error_of("1\npbc=\"T T T\"\nSi 0 0 0\n").find("no Lattice"), std::string::npos);
    EXPECT_NE(error_of("-3\nx\n").find("must be >= 0"), std::string::npos);
    EXPECT_NE(error_of("1\n").find("ends before the comment line"), std::string::npos);
}

TEST(Extxyz, MissingFileIsAnIoError) {
    try {
        read_extxyz("/nonexistent/file.xyz");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/file.xyz"), std::string::npos);
    }
}

// A slab periodic in x and y only: the frame's neighbour list has images across x but none across
// z, although the cell has a z vector (a brute-force count of the pairs decides).
TEST(Frame, NeighbourListFollowsTheFramePeriodicity) {
    const std::vector<Frame> frames = parse(
        "2\nLattice=\"3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0\" pbc=\"T T F\" Properties=species:S:1:pos:R:3\n"
        "Si 0.0 0.0 0.2\nSi 0.0 0.0 2.8\n");
    ASSERT_EQ(frames.size(), 1u);
    const double cutoff = 3.5;
    const NeighbourList list = neighbours_of(frames[0], cutoff);
    // Brute force: images n_x, n_y in -2..2, none along z.
    int64_t expected = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
            for (int nx = -2; nx <= 2; ++nx)
                for (int ny = -2; ny <= 2; ++ny) {
                    if (i == j && nx == 0 && ny == 0) continue;
                    const double dz = frames[0].positions[3 * j + 2] - frames[0].positions[3 * i + 2];
                    const double d2 = 9.0 * (nx * nx + ny * ny) + dz * dz;
                    if (d2 < cutoff * cutoff) ++expected;
                }
    EXPECT_EQ(list.view().offsets[2], expected);
    // Fully periodic, the two atoms are also 0.4 Å apart across z.
    Frame periodic = frames[0];
    periodic.pbc = {true, true, true};
    EXPECT_GT(neighbours_of(periodic, cutoff).view().offsets[2], expected);
}

// W = -V sigma from a stress and the cell; a virial given directly wins; neither gives none.
TEST(Frame, ReferenceVirialFromStressOrVirial) {
    Frame frame;
    frame.cell = Mat3{2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 4.0};
    EXPECT_FALSE(reference_virial(frame).has_value());
    frame.stress = Mat3{1.0, 0.5, 0.0, 0.5, -2.0, 0.0, 0.0, 0.0, 0.25};
    const std::optional<Mat3> from_stress = reference_virial(frame);
    ASSERT_TRUE(from_stress.has_value());
    for (int k = 0; k < 9; ++k) EXPECT_DOUBLE_EQ((*from_stress)[k], -24.0 * (*frame.stress)[k]);
    frame.virial = Mat3{1, 2, 3, 4, 5, 6, 7, 8, 9};
    EXPECT_EQ(*reference_virial(frame), *frame.virial);
}

TEST(Extxyz, LabelKeysChooseWhichPropertiesAreTheLabels) {
    const std::string text =
        "2\n"
        "Lattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3:forces:R:3:REF_forces:R:3:tags:I:1 energy=-1.0 "
        "REF_energy=-2.5 REF_virial=\"1 2 3 4 5 6 7 8 9\"\n"
        "Si 0 0 0 1 2 3 10 20 30 7\n"
        "C  1 1 1 4 5 6 40 50 60 8\n";
    std::istringstream in(text);
    LabelKeys keys;
    keys.energy = "REF_energy";
    keys.forces = "REF_forces";
    keys.virial = "REF_virial";
    const Frame f = parse_extxyz(in, "test.xyz", keys).at(0);
    EXPECT_EQ(*f.energy, -2.5);
    EXPECT_EQ(f.forces, (std::vector<double>{10, 20, 30, 40, 50, 60}));
    EXPECT_EQ((*f.virial)[7], 8.0);
    // What is not a label stays as it was read: the other energy key and both other columns.
    EXPECT_EQ(f.info.at("energy"), "-1.0");
    ASSERT_EQ(f.extra_columns.size(), 2u);
    EXPECT_EQ(f.extra_columns[0].name, "forces");
    EXPECT_EQ(f.extra_columns[0].values, (std::vector<std::string>{"1", "2", "3", "4", "5", "6"}));
    EXPECT_EQ(f.extra_columns[1].type, 'I');
    EXPECT_EQ(f.extra_columns[1].values, (std::vector<std::string>{"7", "8"}));

    // Written under the same keys and read back: the same labels, info and columns.
    std::ostringstream out;
    write_extxyz(out, f, keys);
    std::istringstream again(out.str());
    const Frame back = parse_extxyz(again, "again.xyz", keys).at(0);
    EXPECT_EQ(*back.energy, *f.energy);
    EXPECT_EQ(back.forces, f.forces);
    EXPECT_EQ(*back.virial, *f.virial);
    EXPECT_EQ(back.info, f.info);
    ASSERT_EQ(back.extra_columns.size(), 2u);
    for (int c = 0; c < 2; ++c) {
        EXPECT_EQ(back.extra_columns[c].name, f.extra_columns[c].name);
        EXPECT_EQ(back.extra_columns[c].values, f.extra_columns[c].values);
    }
    // Under the default keys the same file has other labels.
    std::istringstream plain(text);
    const Frame standard = parse_extxyz(plain, "test.xyz").at(0);
    EXPECT_EQ(*standard.energy, -1.0);
    EXPECT_EQ(standard.forces[0], 1.0);
    EXPECT_FALSE(standard.virial);
    EXPECT_EQ(standard.info.at("REF_virial"), "1 2 3 4 5 6 7 8 9");
}
