#include "core/cutoff.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace atomfp;

TEST(Cutoff, DerivativesMatchFiniteDifferencesAndVanishAtTheCutoff) {
    for (const std::string& name : CutoffFunction::names()) {
        for (double inner : {0.0, 0.35}) {
            CutoffFunction fc(CutoffFunction::kind_from_name(name), 5.0, inner);
            EXPECT_EQ(fc.name(), name);
            for (double r = 0.05; r < 5.0; r += 0.0731) {
                double f, df;
                fc.evaluate(r, f, df);
                const double h = 1e-6;
                const double fd = (fc.value(r + h) - fc.value(r - h)) / (2 * h);
                EXPECT_NEAR(df, fd, 1e-7) << name << " r=" << r;
                EXPECT_GE(f, 0.0);
                EXPECT_LE(f, 1.0 + 1e-15);
            }
            double f, df;
            fc.evaluate(5.0, f, df);
            EXPECT_EQ(f, 0.0);
            EXPECT_EQ(df, 0.0);
            fc.evaluate(5.0 - 1e-7, f, df);
            EXPECT_NEAR(f, 0.0, 1e-10) << name;
            EXPECT_NEAR(df, 0.0, 1e-5) << name;  // smooth: the slope also vanishes at r_c
        }
    }
}

TEST(Cutoff, KnownValues) {
    CutoffFunction cosine(CutoffFunction::Kind::cosine, 4.0);
    EXPECT_NEAR(cosine.value(2.0), 0.5, 1e-15);
    EXPECT_EQ(cosine.value(0.0), 1.0);
    CutoffFunction poly(CutoffFunction::Kind::poly1, 4.0, 0.5);
    EXPECT_EQ(poly.value(1.9), 1.0);  // inside the inner radius
    EXPECT_NEAR(poly.value(3.0), 0.5, 1e-15);  // x = 1/2 is the midpoint of the switch
    CutoffFunction tanh_cut(CutoffFunction::Kind::tanh, 4.0);
    EXPECT_NEAR(tanh_cut.value(0.0), 1.0, 1e-15);
}

TEST(Cutoff, RejectsBadParameters) {
    EXPECT_THROW(CutoffFunction(CutoffFunction::Kind::cosine, 0.0), Error);
    EXPECT_THROW(CutoffFunction(CutoffFunction::Kind::cosine, -1.0), Error);
    EXPECT_THROW(CutoffFunction(CutoffFunction::Kind::cosine, 4.0, 1.0), Error);
    EXPECT_THROW(CutoffFunction::kind_from_name("gaussian"), Error);
}
