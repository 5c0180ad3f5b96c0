#include "scenario/data_file.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(DataFile, CsvWithQuotes) {
  auto t = *ParseCsv("name,password\r\nann,\"p,w\"\nbob,\"say \"\"hi\"\"\"\n\n", "users.csv");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"name", "password"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "p,w");
  EXPECT_EQ(t.rows[1][1], "say \"hi\"");
}

TEST(DataFile, CsvErrors) {
  EXPECT_EQ(ParseCsv("a,b\n1\n", "x.csv").error().message, "x.csv: row 2 has 1 fields, the header has 2");
  EXPECT_EQ(ParseCsv("", "x.csv").error().message, "x.csv: empty CSV file (a header row is needed)");
  EXPECT_EQ(ParseCsv("a\n", "x.csv").error().message, "x.csv: no data rows under the header");
  EXPECT_FALSE(ParseCsv("a\n\"open\n", "x.csv").ok());
}

TEST(DataFile, JsonRows) {
  auto t = *ParseJsonRows(R"([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])", "x.json");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(t.rows[1][0], "2");
  EXPECT_EQ(t.rows[1][1], "b");
  EXPECT_FALSE(ParseJsonRows("{}", "x.json").ok());
  EXPECT_FALSE(ParseJsonRows("[1]", "x.json").ok());
  EXPECT_EQ(ParseJsonRows(R"([{"a":1},{"b":2}])", "x.json").error().message, "x.json: element 1 has no \"a\"");
}

}  // namespace
}  // namespace loadcell
