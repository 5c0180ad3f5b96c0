#include "monitor/postgres_source.h"

#include <gtest/gtest.h>

#include "metrics/catalog.h"
#include "metrics/gauge_key.h"

namespace loadcell {
namespace {

PgStatsReading Reading(double commits, double hit, double read) {
  PgStatsReading r;
  r.connections = {{"active", 3}, {"idle", 27}};
  r.max_connections = 100;
  r.xact_commit = commits;
  r.blks_hit = hit;
  r.blks_read = read;
  r.tup_inserted = commits;
  return r;
}

TEST(PgStats, FirstReadGivesLevelsOnly) {
  PgStatsConverter c(5);
  auto g = c.Convert(Reading(1000, 50, 50), 10.0);
  EXPECT_EQ(g.at(R"(monitor_pg_connections{state="active"})"), 3);
  EXPECT_EQ(g.at(R"(monitor_pg_connections{state="idle"})"), 27);
  EXPECT_EQ(g.at("monitor_pg_connections_used"), 30);
  EXPECT_EQ(g.at("monitor_pg_connections_max"), 100);
  EXPECT_EQ(g.at("monitor_pg_deadlocks"), 0);
  EXPECT_EQ(g.count("monitor_pg_xact_commit_rate"), 0u);
  EXPECT_EQ(g.count("monitor_pg_cache_hit_ratio"), 0u);
}

TEST(PgStats, RatesAndTheHitRatioAreOverTheTimeBetweenReads) {
  PgStatsConverter c(5);
  c.Convert(Reading(1000, 50, 50), 10.0);
  auto g = c.Convert(Reading(1500, 50 + 990, 50 + 10), 12.0);  // 2 s later
  EXPECT_DOUBLE_EQ(g.at("monitor_pg_xact_commit_rate"), 250);
  EXPECT_DOUBLE_EQ(g.at(R"(monitor_pg_tuples_rate{op="inserted"})"), 250);
  EXPECT_DOUBLE_EQ(g.at(R"(monitor_pg_tuples_rate{op="deleted"})"), 0);
  EXPECT_DOUBLE_EQ(g.at("monitor_pg_cache_hit_ratio"), 0.99);  // of this interval, not since the start
  // A second that asked for no block has no ratio (not 0, not 1).
  auto idle = c.Convert(Reading(1500, 1040, 60), 13.0);
  EXPECT_EQ(idle.count("monitor_pg_cache_hit_ratio"), 0u);
  EXPECT_DOUBLE_EQ(idle.at("monitor_pg_xact_commit_rate"), 0);
}

TEST(PgStats, AResetCounterCountsFromZeroAndDeadlocksCountFromTheStart) {
  PgStatsConverter c(5);
  PgStatsReading r = Reading(1000, 0, 0);
  r.deadlocks = 7;  // before the run
  c.Convert(r, 1.0);
  PgStatsReading reset = Reading(40, 0, 0);  // pg_stat_reset(): 40 since
  reset.deadlocks = 9;
  auto g = c.Convert(reset, 2.0);
  EXPECT_DOUBLE_EQ(g.at("monitor_pg_xact_commit_rate"), 40);
  EXPECT_EQ(g.at("monitor_pg_deadlocks"), 2);
}

TEST(PgStats, TheSlowestStatementsOfTheIntervalWithTheirMeanTime) {
  PgStatsConverter c(2);
  PgStatsReading a = Reading(0, 0, 0);
  a.statements = std::vector<PgStatement>{{"1/10", "select $1", 100, 100},
                                          {"2/10", "update t\n   set x = $1  where id = $2", 10, 500},
                                          {"3/10", "select pg_sleep($1)", 1, 1000}};
  c.Convert(a, 1.0);
  PgStatsReading b = a;
  (*b.statements)[0] = {"1/10", "select $1", 300, 300};                               // +200 calls, +200 ms
  (*b.statements)[1] = {"2/10", "update t\n   set x = $1  where id = $2", 20, 1500};  // +10 calls, +1000 ms
  b.statements->push_back({"4/10", "insert into t values ($1)", 50, 100});            // new: 50 calls, 100 ms
  auto g = c.Convert(b, 3.0);
  // pg_sleep did not run in the interval; the two with the most time did.
  EXPECT_DOUBLE_EQ(g.at(GaugeKey("monitor_pg_statement_ms", {{"query", "update t set x = $1 where id = $2"}})), 100);
  EXPECT_DOUBLE_EQ(g.at(GaugeKey("monitor_pg_statement_calls_rate", {{"query", "update t set x = $1 where id = $2"}})),
                   5);
  EXPECT_DOUBLE_EQ(g.at(GaugeKey("monitor_pg_statement_ms", {{"query", "select $1"}})), 1);
  EXPECT_EQ(g.count(GaugeKey("monitor_pg_statement_ms", {{"query", "insert into t values ($1)"}})), 0u);
  EXPECT_EQ(g.count(GaugeKey("monitor_pg_statement_ms", {{"query", "select pg_sleep($1)"}})), 0u);
}

TEST(PgStats, AStatementTagIsCutToAReadableLength) {
  PgStatsConverter c(1);
  PgStatsReading a = Reading(0, 0, 0);
  a.statements = std::vector<PgStatement>{};
  c.Convert(a, 1.0);
  a.statements->push_back({"1/1", "select " + std::string(500, 'x'), 1, 1});
  auto g = c.Convert(a, 2.0);
  ASSERT_EQ(g.count("monitor_pg_xact_commit_rate"), 1u);
  std::string key;
  for (const auto& [k, v] : g) {
    if (k.starts_with("monitor_pg_statement_ms")) key = k;
  }
  auto [metric, tags] = SplitGaugeKey(key);
  EXPECT_EQ(metric, "monitor_pg_statement_ms");
  EXPECT_EQ(tags.at("query").size(), kPgStatementTagChars + 3);
  EXPECT_TRUE(tags.at("query").ends_with("..."));
}

TEST(PgStats, EveryGaugeIsInTheCatalogue) {
  PgStatsConverter c(5);
  PgStatsReading a = Reading(0, 0, 0);
  a.statements = std::vector<PgStatement>{};
  c.Convert(a, 1.0);
  a.statements->push_back({"1/1", "select 1", 1, 1});
  a.blks_hit = 5;
  for (const auto& [key, v] : c.Convert(a, 2.0)) {
    std::string metric = SplitGaugeKey(key).first;
    EXPECT_NE(FindMetric(metric), nullptr) << metric;
  }
}

}  // namespace
}  // namespace loadcell
