#include "util/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ferry {
namespace {

TEST(BoundedQueueTest, CloseWakesEveryWaitingConsumer) {
  BoundedQueue<int> queue(2);
  std::atomic<int> finished{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 4; ++i)
    consumers.emplace_back([&] {
      while (queue.Pop()) {
      }
      ++finished;
    });
  queue.Push(1);
  queue.Close();
  for (auto& thread : consumers) thread.join();  // hangs (ctest timeout) if a waiter is missed
  EXPECT_EQ(finished, 4);
  EXPECT_FALSE(queue.Push(2));
}

TEST(BoundedQueueTest, DeliversEverythingInOrderUnderBackPressure) {
  BoundedQueue<int> queue(3);
  std::thread producer([&] {
    for (int i = 0; i < 10000; ++i) queue.Push(i);
    queue.Close();
  });
  int expected = 0;
  while (auto item = queue.Pop()) EXPECT_EQ(*item, expected++);
  producer.join();
  EXPECT_EQ(expected, 10000);
}

}  // namespace
}  // namespace ferry
