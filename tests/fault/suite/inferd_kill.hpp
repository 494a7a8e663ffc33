#pragma once
// GoogleTest steps shared by the suite fault tests (suite_harness.hpp itself is also used by bench_soak,
// which has no GoogleTest).
#include <gtest/gtest.h>

#include <csignal>

#include "suite_harness.hpp"

namespace peaknet::fault {

/// SIGKILL of `inferd` while it holds a claimed Q1 batch and some results already went out, then a new
/// inferd: the dead one's claims must be requeued (at-least-once) and written once.
inline void sigkill_inferd_holding_claims(SuiteRun& run, ChildProcess& inferd) {
  ASSERT_TRUE(eventually(
      [&] {
        const auto q1 = run.ring("q1"), q2 = run.ring("q2");
        return q1 && q2 && q2->published >= 8 && q1->claimed > 0;
      },
      60s))
      << run.log_text("");
  inferd.signal(SIGKILL);
  inferd.wait(5s);
  run.forget(inferd);
  run.start("inferd");
}

}  // namespace peaknet::fault
