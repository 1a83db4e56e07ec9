package org.carecoord.fhirserver;

import org.junit.jupiter.api.Test;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NoSelfBlockingChannelFactoryTest {

    /**
     * HAPI's deadlock in small: the only consumer, busy with a task, sends two more into a queue of
     * one. With HAPI's policy the second send waits for room only that consumer could make.
     */
    @Test
    void aConsumerSendingIntoItsFullQueueRunsTheTaskItself() throws InterruptedException {
        ThreadPoolTaskExecutor executor = NoSelfBlockingChannelFactory.newChannelExecutor(1, "test-channel", 1);
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
        ThreadPoolTaskExecutor executor = NoSelfBlockingChannelFactory.newChannelExecutor(1, "test-channel", 1);
        try {
            CountDownLatch release = new CountDownLatch(1);
            executor.execute(() -> awaitQuietly(release)); // the consumer is busy
            executor.execute(() -> { }); // the queue is full
            CountDownLatch sent = new CountDownLatch(1);
            AtomicReference<String> ranOn = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                executor.execute(() -> ranOn.set(Thread.currentThread().getName()));
                sent.countDown();
            }, "a-client-write");
            writer.start();
            assertFalse(sent.await(300, TimeUnit.MILLISECONDS), "a writer's send did not wait for room");
            release.countDown();
            assertTrue(sent.await(10, TimeUnit.SECONDS));
            writer.join();
            executor.shutdown();
            assertTrue(executor.getThreadPoolExecutor().awaitTermination(10, TimeUnit.SECONDS));
            assertTrue(ranOn.get().startsWith("test-channel-"), "ran on " + ranOn.get());
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
