package org.carecoord.fhirserver;

import ca.uhn.fhir.broker.api.IChannelNamer;
import ca.uhn.fhir.jpa.search.reindex.BlockPolicy;
import ca.uhn.fhir.jpa.subscription.channel.impl.LinkedBlockingChannel;
import ca.uhn.fhir.jpa.subscription.channel.impl.LinkedBlockingChannelFactory;
import ca.uhn.fhir.jpa.subscription.channel.impl.RetryPolicyProvider;
import ca.uhn.fhir.util.ThreadPoolUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * HAPI's in-memory subscription channels, except that a channel's own consumer thread never waits
 * for room in that channel's queue.
 * <p>
 * HAPI's channels block a sender while their queue (1,000 messages) is full. Activating a
 * Subscription is done by a subscription-matching thread that holds the activation lock while it
 * writes the Subscription; that write sends a message into the same matching queue. With the queue
 * full under load, the sender waits for a matching thread to take a message, and every matching
 * thread waits for the activation lock: matching stops for good and every Subscription write hangs
 * (seen under the bench, fhir-server/README.md "Subscriptions"). Here a message that a consumer
 * thread of the full channel sends is handled at once on that thread instead; a send from any other
 * thread (a client's write) still waits, as before, so load still pushes back on writers.
 */
public class NoSelfBlockingChannelFactory extends LinkedBlockingChannelFactory {

    private static final Logger LOG = LoggerFactory.getLogger(NoSelfBlockingChannelFactory.class);

    /** HAPI's own capacity for each channel's queue. */
    static final int QUEUE_CAPACITY = 1000;

    public NoSelfBlockingChannelFactory(IChannelNamer channelNamer, RetryPolicyProvider retryPolicyProvider) {
        super(channelNamer, retryPolicyProvider);
    }

    @Override
    protected LinkedBlockingChannel buildLinkedBlockingChannel(int concurrentConsumers, String channelName) {
        ThreadPoolTaskExecutor executor = newChannelExecutor(concurrentConsumers, channelName, QUEUE_CAPACITY);
        LOG.info("Channel {}: {} consumers, its own never wait for room in its queue", channelName, concurrentConsumers);
        return new LinkedBlockingChannel(channelName, executor, executor::getQueueSize, myRetryPolicyProvider);
    }

    /** A channel's consumers, named `<channel>-<n>` as HAPI names them, with the policy above. */
    static ThreadPoolTaskExecutor newChannelExecutor(int consumers, String channelName, int queueCapacity) {
        String threadPrefix = channelName + "-";
        return ThreadPoolUtil.newThreadPool(
                consumers, consumers, threadPrefix, queueCapacity, new RunOnOwnThreadElseWait(threadPrefix));
    }

    /** Runs a rejected task on the sending thread if it is one of this pool's; otherwise waits for room. */
    static final class RunOnOwnThreadElseWait implements RejectedExecutionHandler {
        private final String threadPrefix;
        private final BlockPolicy wait = new BlockPolicy();

        RunOnOwnThreadElseWait(String threadPrefix) {
            this.threadPrefix = threadPrefix;
        }

        @Override
        public void rejectedExecution(Runnable task, ThreadPoolExecutor executor) {
            if (!executor.isShutdown() && Thread.currentThread().getName().startsWith(threadPrefix)) {
                task.run();
            } else {
                wait.rejectedExecution(task, executor);
            }
        }
    }
}
