# libFuzzer targets (built by tests/fuzz/run with clang).
