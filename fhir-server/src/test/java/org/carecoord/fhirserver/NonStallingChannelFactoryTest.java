package org.carecoord.fhirserver;

import org.junit.jupiter.api.Test;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NonStallingChannelFactoryTest {

    /**
     * HAPI's deadlock in small: the only consumer, busy with a task, sends two more into a queue of
     * one. With HAPI's policy the second send waits for room only that consumer could make.
     */
    @Test
    void aConsumerSendingIntoItsFullQueueRunsTheTaskItself() throws InterruptedException {
        ThreadPoolTaskExecutor executor = NonStallingChannelFactory.newChannelExecutor(1, "test-channel", 1);
        try {
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<String> ranOn = new AtomicReference<>();
            executor.execute(() -> {
                executor.execute(() -> { }); // fills the queue
                executor.execute(() -> ranOn.set(Thread.currentThread().getName())); // no room
                done.countDown();
            });
            assertTrue(done.await(10, TimeUnit.SECONDS), "the consumer waited on its own queue");
            assertTrue(ranOn.get().startsWith("test-channel-"), "ran on " + ranOn.get());
        } finally {
            executor.shutdown();
        }
    }

    /** Writers still wait for room: a full queue pushes back on threads that are not its consumers. */
    @Test
    void anyOtherSenderWaitsForRoom() throws InterruptedException {
        ThreadPoolTaskExecutor executor = NonStallingChannelFactory.newChannelExecutor(1, "test-channel", 1);
        try {
            CountDownLatch release = new CountDownLatch(1);
            executor.execute(() -> awaitQuietly(release)); // the consumer is busy
            executor.execute(() -> { }); // the queue is full
            CountDownLatch sent = new CountDownLatch(1);
            CountDownLatch ran = new CountDownLatch(1);
            AtomicReference<String> ranOn = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                executor.execute(() -> {
                    ranOn.set(Thread.currentThread().getName());
                    ran.countDown();
                });
                sent.countDown();
            }, "a-client-write");
            writer.start();
            assertFalse(sent.await(300, TimeUnit.MILLISECONDS), "a writer's send did not wait for room");
            release.countDown();
            assertTrue(sent.await(10, TimeUnit.SECONDS));
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            assertTrue(ranOn.get().startsWith("test-channel-"), "ran on " + ranOn.get());
        } finally {
            executor.shutdown();
        }
    }

    /** A delivery queue that is full drops the new notification: matching never waits on a subscriber. */
    @Test
    void aFullDeliveryQueueDropsRatherThanWaits() throws InterruptedException {
        ThreadPoolTaskExecutor executor = NonStallingChannelFactory.newChannelExecutor(
                1, NonStallingChannelFactory.DELIVERY_PREFIX + "rest-hook-test", 1);
        try {
            CountDownLatch release = new CountDownLatch(1);
            executor.execute(() -> awaitQuietly(release)); // the consumer is busy (a dead endpoint)
            executor.execute(() -> { }); // the queue is full
            CountDownLatch ran = new CountDownLatch(1);
            CountDownLatch sent = new CountDownLatch(1);
            Thread matcher = new Thread(() -> {
                executor.execute(ran::countDown);
                sent.countDown();
            }, "subscription-matching-0");
            matcher.start();
            assertTrue(sent.await(10, TimeUnit.SECONDS), "a matching thread waited for room in a delivery queue");
            release.countDown();
            // One consumer takes its queue in order: once a later task has run, the queue is done.
            // (Sent once there is room: this channel would drop it too.)
            long deadline = System.currentTimeMillis() + 10_000;
            while (!executor.getThreadPoolExecutor().getQueue().isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            CountDownLatch last = new CountDownLatch(1);
            executor.execute(last::countDown);
            assertTrue(last.await(10, TimeUnit.SECONDS));
            assertFalse(ran.await(0, TimeUnit.SECONDS), "the notification that found no room was run");
        } finally {
            executor.shutdown();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
