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
import java.util.concurrent.atomic.AtomicLong;

/**
 * HAPI's in-memory channels (subscription matching and delivery, batch2's work notifications), except
 * that a channel's own consumer thread never waits for room in that channel's queue, and a full
 * delivery queue drops rather than waits.
 * <p>
 * HAPI's channels block a sender while their queue (1,000 messages) is full. Activating a
 * Subscription is done by a subscription-matching thread that holds the activation lock while it
 * writes the Subscription; that write sends a message into the same matching queue. With the queue
 * full under load, the sender waits for a matching thread to take a message, and every matching
 * thread waits for the activation lock: matching stops for good and every Subscription write hangs
 * (seen under the bench, fhir-server/README.md "Subscriptions"). Here a message that a consumer
 * thread of the full channel sends is handled at once on that thread instead; a send from any other
 * thread (a client's write) still waits, as before, so load still pushes back on writers.
 * <p>
 * A delivery channel (one per Subscription, {@value #DELIVERY_PREFIX}...) whose queue is full drops
 * the new notification instead, with a warning. HAPI retries each failed delivery for a minute on one
 * of the channel's two threads, so the queue of a subscriber that is down fills, and then every
 * matching thread waited for room in it: matching, and every client write of a subscribed type,
 * went at the pace of the dead endpoint's retries (two notifications a minute). The hub takes these
 * notifications as a prompt only: its history catch-up finds every CarePlan version and
 * acknowledgment Task within a minute (README, "Routing plan changes").
 */
public class NonStallingChannelFactory extends LinkedBlockingChannelFactory {

    private static final Logger LOG = LoggerFactory.getLogger(NonStallingChannelFactory.class);

    /** HAPI's own capacity for each channel's queue. */
    static final int QUEUE_CAPACITY = 1000;

    /** How HAPI names the channel that delivers one Subscription's notifications. */
    static final String DELIVERY_PREFIX = "subscription-delivery-";

    public NonStallingChannelFactory(IChannelNamer channelNamer, RetryPolicyProvider retryPolicyProvider) {
        super(channelNamer, retryPolicyProvider);
    }

    @Override
    protected LinkedBlockingChannel buildLinkedBlockingChannel(int concurrentConsumers, String channelName) {
        ThreadPoolTaskExecutor executor = newChannelExecutor(concurrentConsumers, channelName, QUEUE_CAPACITY);
        return new LinkedBlockingChannel(channelName, executor, executor::getQueueSize, myRetryPolicyProvider);
    }

    /** A channel's consumers, named `<channel>-<n>` as HAPI names them, with the policy above. */
    static ThreadPoolTaskExecutor newChannelExecutor(int consumers, String channelName, int queueCapacity) {
        String threadPrefix = channelName + "-";
        boolean delivery = channelName.startsWith(DELIVERY_PREFIX);
        RejectedExecutionHandler whenFull =
                delivery ? new DropWithWarning(channelName) : new RunOnOwnThreadElseWait(threadPrefix);
        LOG.info("Channel {}: {} consumers; when its queue is full, {}", channelName, consumers,
                delivery ? "new notifications are dropped" : "its own consumers do not wait");
        return ThreadPoolUtil.newThreadPool(consumers, consumers, threadPrefix, queueCapacity, whenFull);
    }

    /** Drops a notification its full delivery queue has no room for; the hub's catch-up finds it. */
    static final class DropWithWarning implements RejectedExecutionHandler {
        private final String channelName;
        private final AtomicLong dropped = new AtomicLong();

        DropWithWarning(String channelName) {
            this.channelName = channelName;
        }

        @Override
        public void rejectedExecution(Runnable task, ThreadPoolExecutor executor) {
            long n = dropped.incrementAndGet();
            // Once, then every thousandth: a subscriber that is down drops many.
            if (n == 1 || n % 1000 == 0) {
                LOG.warn("Channel {}: queue full, its subscriber not keeping up; {} notifications dropped so far",
                        channelName, n);
            }
        }
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
