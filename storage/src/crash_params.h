// The sweep that crash_writer_main.cc writes and crash_test.cc checks.
#pragma once

inline constexpr int kCrashGrids = 8;
inline constexpr int kCrashSeeds = 30;   // 240 jobs, 80 packs (> 24 kills x at most 3 packs each)
inline constexpr int kCrashPack = 3;     // jobs per shard
inline constexpr int kCrashSteps = 100;  // probes per job
inline constexpr int kCrashMetrics = 5;
