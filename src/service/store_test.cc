#include "service/store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace loadcell {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("loadcell-store-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "s.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Store> OpenStore() {
    auto db = OpenSqlite(path_);
    EXPECT_TRUE(db.ok());
    auto s = Store::Open(std::move(db).value());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(s).value();
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreTest, MigratesOnceAndKeepsData) {
  {
    auto s = OpenStore();
    EXPECT_EQ(s->schema_version(), 2);
    ASSERT_TRUE(s->CreateTest("a", "yaml-a", R"({"u.csv":"id\n1\n"})").ok());
    ASSERT_TRUE(s->CreateTest("b", "yaml-b").ok());
    ASSERT_TRUE(s->SetSetting("k", "v1").ok());
    ASSERT_TRUE(s->SetSetting("k", "v2").ok());
  }
  auto s = OpenStore();  // a second start applies nothing and finds everything
  EXPECT_EQ(s->schema_version(), 2);
  auto tests = s->ListTests();
  ASSERT_TRUE(tests.ok());
  ASSERT_EQ(tests->size(), 2u);
  EXPECT_EQ((*tests)[0].yaml, "yaml-a");
  EXPECT_EQ((*tests)[0].files, R"({"u.csv":"id\n1\n"})");  // migration 2: the files stored with a test
  EXPECT_EQ((*tests)[1].files, "{}");
  EXPECT_EQ(s->GetSetting("k")->value(), "v2");
  EXPECT_FALSE(s->GetSetting("none")->has_value());
}

TEST_F(StoreTest, RefusesADatabaseFromANewerLoadcell) {
  { OpenStore(); }
  {
    auto db = OpenSqlite(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Query("INSERT INTO schema_version (version) VALUES (7)").ok());
  }
  auto db = OpenSqlite(path_);
  auto s = Store::Open(std::move(db).value());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "database " + path_ + ": schema version 7 is newer than this loadcell's (2)");
}

TEST_F(StoreTest, RunsFilterFinishAndInterrupt) {
  auto s = OpenStore();
  auto t = s->CreateTest("t", "y");
  ASSERT_TRUE(t.ok());
  RunRecord r;
  r.test_id = t->id;
  r.test_name = "t";
  r.yaml = "y";
  r.created = 1;
  auto a = s->CreateRun(r), b = s->CreateRun(r), c = s->CreateRun(r);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*s->ActiveRuns(t->id), 3);
  ASSERT_TRUE(s->MarkRunning(*a, 10).ok());
  ASSERT_TRUE(s->MarkRunning(*b, 11).ok());
  RunRecord done = **s->GetRun(*a);
  done.status = "passed";
  done.finished = 12;
  done.exit_code = 0;
  done.reqs = 42;
  done.p95_ms = 1.5;
  ASSERT_TRUE(s->FinishRun(done, "{\"schema\":\"x\"}").ok());
  RunFilter f;
  f.status = "queued";
  auto queued = s->ListRuns(f);
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].id, *c);
  auto got = **s->GetRun(*a);
  EXPECT_EQ(got.status, "passed");
  EXPECT_EQ(got.reqs, 42);
  EXPECT_DOUBLE_EQ(got.p95_ms, 1.5);
  EXPECT_DOUBLE_EQ(got.started, 10);
  EXPECT_TRUE(got.has_results);
  EXPECT_EQ(s->RunResultsJson(*a)->value(), "{\"schema\":\"x\"}");
  EXPECT_EQ(s->PreviousPassingRun(t->id, *c)->value().id, *a);
  EXPECT_FALSE(s->PreviousPassingRun(t->id, *a)->has_value());
  // A restart: the run left `running` is aborted and marked interrupted; the queued one waits.
  auto interrupted = s->MarkInterrupted(20);
  ASSERT_EQ(interrupted->size(), 1u);
  EXPECT_EQ((*interrupted)[0].id, *b);
  auto after = **s->GetRun(*b);
  EXPECT_EQ(after.status, "aborted");
  EXPECT_TRUE(after.interrupted);
  EXPECT_EQ((**s->GetRun(*c)).status, "queued");
  EXPECT_EQ(*s->ActiveRuns(std::nullopt), 1);
}

TEST_F(StoreTest, AlertEventsAndRuleCooldownClock) {
  auto s = OpenStore();
  AlertRule rule;
  rule.name = "slow";
  rule.metric = "http_req_duration";
  rule.condition = "p(95)>1";
  auto made = s->CreateRule(rule);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(*s->LastEventOfRule(made->id), 0);
  AlertEvent e;
  e.rule_id = made->id;
  e.kind = "rule";
  e.severity = "warning";
  e.message = "m";
  auto ev = s->CreateEvent(e);
  ASSERT_TRUE(ev.ok());
  EXPECT_GT(*s->LastEventOfRule(made->id), 0);
  ASSERT_TRUE(s->SetEventStatus(ev->id, "acknowledged", 5).ok());
  auto got = **s->GetEvent(ev->id);
  EXPECT_EQ(got.status, "acknowledged");
  EXPECT_DOUBLE_EQ(got.acknowledged, 5);
  EXPECT_EQ(s->ListEvents("open", std::nullopt)->size(), 0u);
  EXPECT_EQ(s->ListEvents("acknowledged", std::nullopt)->size(), 1u);
}

TEST(SqlDb, RedactsPasswords) {
  EXPECT_EQ(RedactConnInfo("postgres://u:secret@h:5432/db"), "postgres://u:[redacted]@h:5432/db");
  EXPECT_EQ(RedactConnInfo("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(RedactConnInfo("host=h password=secret dbname=x"), "host=h password=[redacted] dbname=x");
}

}  // namespace
}  // namespace loadcell
