#pragma once

namespace atomfp::cli {

int describe(int argc, char** argv);
int optimize_basis(int argc, char** argv);
int sensitivity(int argc, char** argv);
int manifold(int argc, char** argv);
int perturb(int argc, char** argv);
int fit(int argc, char** argv);
int predict(int argc, char** argv);
int scan(int argc, char** argv);
int compare(int argc, char** argv);
int select(int argc, char** argv);
int dims(int argc, char** argv);
int kim_model(int argc, char** argv);

}  // namespace atomfp::cli
