// libFuzzer's entry points for one target, chosen at build time:
// fuzz/CMakeLists.txt builds this file once per target with
// OVERSEER_FUZZ_TARGET naming its function.
#include "fuzz/fuzz.hpp"

#ifndef OVERSEER_FUZZ_TARGET
#error "OVERSEER_FUZZ_TARGET must name a function of fuzz/fuzz.hpp"
#endif

// One empty input first: what a target sets up once (the live server, the
// exec tool) is then not charged to the first real input's time limit.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return overseer::fuzz::OVERSEER_FUZZ_TARGET(nullptr, 0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return overseer::fuzz::OVERSEER_FUZZ_TARGET(data, size);
}
