"""Coordinated omission, measured: a server that freezes for 1 s every 10 s, loaded at a
constant 1000 req/s for 30 s. 10% of requests arrive during a stall and wait 0..1 s for
its end, so the true p99 is 900 ms. A closed-model tool reports a few ms here; loadcell's
open model, timing from the intended send time, must report 900 ms within 10%."""
import unittest

from harness import Target, quick


class StallTruth(unittest.TestCase):
    def test_p99_matches_the_analytic_value(self):
        with Target("--stall", "1s/10s") as t:
            r = quick(t.url, "-R", "1000", "-c", "1200", "-t", "2", "-d", "30s")
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.counters["requests"], 30000)
        self.assertEqual(r.counters["failed"], 0)
        p99 = r.metric("http_req_duration")["p(99)"]
        self.assertGreaterEqual(p99, 810, p99)
        self.assertLessEqual(p99, 990, p99)
        # The median request never met a stall.
        self.assertLess(r.metric("http_req_duration")["med"], 5)
        # The tail is the server's, not the generator's: its own send lag stays far below it
        # (loose bound: other tests share the two cores while this one runs).
        self.assertLess(r.metric("iteration_start_lag")["p(99)"], 20.0)


if __name__ == "__main__":
    unittest.main()
