package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gate on its own, no HTTP. Ordering is proved with latches, barriers and thread states (a
 * thread parked inside the gate), never with elapsed time.
 */
class SwapGateTest {
    private static final long WAIT_S = 10;

    private final SwapGate gate = new SwapGate();
    private final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void stopThreads() throws InterruptedException {
        gate.open(); // never leave a test thread parked at a closed gate
        for (Thread t : threads) {
            t.interrupt();
            t.join(5000);
        }
    }

    private Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return t;
    }

    /** Waits until {@code t} is parked (its only blocking point is inside the gate). */
    private static void awaitParked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (true) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) {
                return;
            }
            if (s == Thread.State.TERMINATED) {
                fail(t.getName() + " ended instead of waiting at the gate");
            }
            if (System.nanoTime() > deadline) {
                fail(t.getName() + " never parked at the gate; state " + s);
            }
            Thread.sleep(1);
        }
    }

    private static void await(CountDownLatch latch, String what) throws InterruptedException {
        assertTrue(latch.await(WAIT_S, TimeUnit.SECONDS), "timed out waiting: " + what);
    }

    @Test
    void requestsInsideTheGateRunConcurrently() throws Exception {
        int n = 8;
        AtomicInteger insideAtBarrier = new AtomicInteger(-1);
        // The barrier trips only when all eight are inside at once; a serializing gate would break it.
        CyclicBarrier barrier = new CyclicBarrier(n, () -> insideAtBarrier.set(gate.inFlight()));
        AtomicInteger passed = new AtomicInteger();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            start("req-" + i, () -> {
                try (SwapGate.Pass pass = gate.enter()) {
                    barrier.await(WAIT_S, TimeUnit.SECONDS);
                    passed.incrementAndGet();
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    done.countDown();
                }
            });
        }
        await(done, "eight requests");
        assertEquals(List.of(), errors);
        assertEquals(n, passed.get());
        assertEquals(n, insideAtBarrier.get(), "all requests were inside the gate together");
        assertEquals(0, gate.inFlight());
    }

    @Test
    void closeWaitsForInFlightPassesThenHoldsNewEntriesUntilOpen() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        start("in-flight", () -> {
            try (SwapGate.Pass pass = gate.enter()) {
                entered.countDown();
                leave.await();
            } catch (InterruptedException ignored) {
                // test over
            }
        });
        await(entered, "first request inside");

        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Throwable> closeError = new AtomicReference<>();
        Thread closer = start("swap", () -> {
            try {
                gate.close(60_000);
                closed.countDown();
            } catch (Throwable e) {
                closeError.set(e);
            }
        });
        awaitParked(closer);
        assertEquals(1, closed.getCount(), "close() returned while a pass was still held");
        assertEquals(1, gate.inFlight());

        leave.countDown();
        await(closed, "close() after the last pass left");
        assertNull(closeError.get());
        assertEquals(0, gate.inFlight());

        CountDownLatch newEntered = new CountDownLatch(1);
        Thread late = start("late", () -> {
            try (SwapGate.Pass pass = gate.enter()) {
                newEntered.countDown();
            }
        });
        awaitParked(late);
        assertEquals(1, newEntered.getCount(), "a request got in while the gate was closed");
        assertEquals(0, gate.inFlight());

        assertEquals(1, gate.open().waited(), "open() reports the one request that waited");
        await(newEntered, "queued request after open()");
    }

    @Test
    void closeTimesOutWithStillInFlightAndReopensTheGateForQueuedRequests() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        start("stuck", () -> {
            try (SwapGate.Pass pass = gate.enter()) {
                entered.countDown();
                leave.await();
            } catch (InterruptedException ignored) {
                // test over
            }
        });
        await(entered, "stuck request inside");
        try {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            CountDownLatch closeEnded = new CountDownLatch(1);
            Thread closer = start("swap", () -> {
                try {
                    gate.close(2000);
                } catch (Throwable e) {
                    thrown.set(e);
                } finally {
                    closeEnded.countDown();
                }
            });
            awaitParked(closer); // the gate is closed from here until close() gives up
            CountDownLatch queuedEntered = new CountDownLatch(1);
            Thread queued = start("queued", () -> {
                try (SwapGate.Pass pass = gate.enter()) {
                    assertTrue(pass != null);
                }
                queuedEntered.countDown(); // entered and left again
            });
            awaitParked(queued); // held at the closed gate (2 s is the margin for this to happen first)
            await(closeEnded, "close() to give up");
            Throwable e = thrown.get();
            assertNotNull(e, "close() returned although a pass was held past the timeout");
            assertTrue(e instanceof SwapGate.StillInFlight, "unexpected " + e);
            assertTrue(e.getMessage().contains("still in flight after 2000 ms"), e.getMessage());
            assertEquals(1, ((SwapGate.StillInFlight) e).requests);

            await(queuedEntered, "a request queued during the failed close to proceed");
            CountDownLatch freshEntered = new CountDownLatch(1);
            start("fresh", () -> {
                try (SwapGate.Pass pass = gate.enter()) {
                    assertTrue(pass != null);
                }
                freshEntered.countDown(); // entered and left again
            });
            await(freshEntered, "a new request after the failed close");
            assertEquals(1, gate.inFlight(), "only the stuck request is still inside");
        } finally {
            leave.countDown();
        }
    }

    @Test
    void aThreadAlreadyInsideMayEnterAgainWhileASwapWaits() throws Exception {
        CountDownLatch outerEntered = new CountDownLatch(1);
        CountDownLatch enterAgain = new CountDownLatch(1);
        CountDownLatch innerEntered = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        start("nested", () -> {
            try (SwapGate.Pass outer = gate.enter()) {
                outerEntered.countDown();
                enterAgain.await();
                try (SwapGate.Pass inner = gate.enter()) {
                    innerEntered.countDown();
                }
            } catch (Throwable e) {
                error.set(e);
            }
        });
        await(outerEntered, "outer pass");

        CountDownLatch closed = new CountDownLatch(1);
        Thread closer = start("swap", () -> {
            try {
                gate.close(60_000);
                closed.countDown();
            } catch (Throwable e) {
                error.set(e);
            }
        });
        awaitParked(closer); // the swap now waits for the nested thread to leave
        enterAgain.countDown();
        await(innerEntered, "nested enter() while a swap waits (deadlock?)");
        await(closed, "the swap after the nested thread left");
        assertNull(error.get());
        assertEquals(0, gate.inFlight());
        gate.open();
    }

    /**
     * A pass may be closed on another thread than the one that entered (work handed to an executor).
     * Once every pass of a thread is closed, whatever thread closed them, that thread is outside the
     * gate: a closed gate holds it, as it holds any other; and entering again while it holds a pass
     * still does not wait for a swap that waits for that pass.
     */
    @Test
    void passesClosedOnAnotherThreadWhileTheirThreadEntersAgainLeaveItOutsideOnceAllAreClosed() throws Exception {
        // Handed over without a lock, so that entering and closing on the two threads overlap as much as they can.
        java.util.concurrent.ConcurrentLinkedQueue<SwapGate.Pass> handedOver = new java.util.concurrent.ConcurrentLinkedQueue<>();
        int passes = 2_000_000;
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch allClosed = new CountDownLatch(1);
        CountDownLatch gateClosed = new CountDownLatch(1);
        CountDownLatch looked = new CountDownLatch(1);
        CountDownLatch gateOpen = new CountDownLatch(1);
        CountDownLatch outerEntered = new CountDownLatch(1);
        CountDownLatch swapWaits = new CountDownLatch(1);
        AtomicReference<SwapGate.Pass> atClosedGate = new AtomicReference<>();
        AtomicReference<SwapGate.Pass> nested = new AtomicReference<>();
        start("closer", () -> {
            try {
                for (int i = 0; i < passes; i++) {
                    SwapGate.Pass p;
                    while ((p = handedOver.poll()) == null) {
                        Thread.onSpinWait();
                    }
                    p.close();
                }
            } catch (Throwable e) {
                error.set(e);
            }
        });
        Thread entering = start("entering", () -> {
            try {
                for (int i = 0; i < passes; i++) {
                    handedOver.add(gate.enter());
                }
                while (gate.inFlight() > 0) {
                    Thread.sleep(1);
                }
                allClosed.countDown();
                gateClosed.await();
                atClosedGate.set(gate.tryEnter());
                looked.countDown();
                gateOpen.await();
                try (SwapGate.Pass outer = gate.enter()) {
                    outerEntered.countDown();
                    swapWaits.await();
                    nested.set(gate.tryEnter());
                }
            } catch (Throwable e) {
                error.set(e);
            }
        });
        assertTrue(allClosed.await(120, TimeUnit.SECONDS), "the passes were not all closed");
        gate.close(1000);
        gateClosed.countDown();
        await(looked, "a look at the closed gate");
        gate.open();
        gateOpen.countDown();
        await(outerEntered, "the outer pass");
        Thread swap = start("swap", () -> {
            try {
                gate.close(60_000);
            } catch (Throwable e) {
                error.set(e);
            }
        });
        awaitParked(swap);
        swapWaits.countDown();
        entering.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        swap.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        assertNull(error.get());
        assertNull(atClosedGate.get(), "a thread holding no pass went through the closed gate");
        assertNotNull(nested.get(), "a thread holding a pass was held at the gate closed for a swap that waits for that pass");
        nested.get().close();
        gate.open();
    }

    @Test
    void closingAPassTwiceIsHarmless() throws Exception {
        CountDownLatch otherEntered = new CountDownLatch(1);
        CountDownLatch otherLeave = new CountDownLatch(1);
        start("other", () -> {
            try (SwapGate.Pass pass = gate.enter()) {
                otherEntered.countDown();
                otherLeave.await();
            } catch (InterruptedException ignored) {
                // test over
            }
        });
        await(otherEntered, "other request inside");

        CountDownLatch doubleClosed = new CountDownLatch(1);
        CountDownLatch tryAgain = new CountDownLatch(1);
        CountDownLatch aboutToEnter = new CountDownLatch(1);
        CountDownLatch reentered = new CountDownLatch(1);
        AtomicInteger inFlightAfterDoubleClose = new AtomicInteger(-1);
        Thread twice = start("twice", () -> {
            SwapGate.Pass pass = gate.enter();
            pass.close();
            pass.close();
            inFlightAfterDoubleClose.set(gate.inFlight());
            doubleClosed.countDown();
            try {
                tryAgain.await();
            } catch (InterruptedException e) {
                return;
            }
            aboutToEnter.countDown();
            // This thread's nesting depth must be back at 0 (not -1): a closed gate must hold it.
            try (SwapGate.Pass again = gate.enter()) {
                reentered.countDown();
            }
        });
        await(doubleClosed, "double close");
        assertEquals(1, inFlightAfterDoubleClose.get(), "the second close() must not count another request out");

        otherLeave.countDown();
        gate.close(10_000); // returns once the other request left
        assertEquals(0, gate.inFlight());
        tryAgain.countDown();
        await(aboutToEnter, "second enter() attempt");
        awaitParked(twice); // from here its only blocking point is the gate
        assertEquals(1, reentered.getCount(), "a thread that closed its pass twice slipped past a closed gate");
        gate.open();
        await(reentered, "enter after open()");
        assertFalse(twice.isInterrupted());
    }

    /**
     * The request path takes no lock: a request counts itself in, then looks at the gate; a swap
     * closes the gate, then looks at the count. Hammered from many threads, no request may ever be
     * inside while a swap holds the gate closed, and every request must get through in the end.
     */
    @Test
    void underRacingRequestsAndSwapsNoRequestIsEverInsideAClosedGate() throws Exception {
        int requesters = 8;
        int swaps = 300;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean swapping = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < requesters; i++) {
            workers.add(start("request-" + i, () -> {
                while (!stop.get()) {
                    try (SwapGate.Pass pass = gate.enter()) {
                        inside.incrementAndGet();
                        if (swapping.get()) {
                            violations.incrementAndGet();
                        }
                        if (served.incrementAndGet() % 7 == 0) {
                            try (SwapGate.Pass nested = gate.enter()) { // nested entry never waits
                                Thread.yield();
                            }
                        }
                        inside.decrementAndGet();
                    }
                }
            }));
        }
        for (int i = 0; i < swaps; i++) {
            gate.close(10_000);
            swapping.set(true);
            if (inside.get() != 0 || gate.inFlight() != 0) {
                violations.incrementAndGet();
            }
            Thread.yield();
            swapping.set(false);
            gate.open();
        }
        int servedDuringSwaps = served.get();
        stop.set(true);
        for (Thread t : workers) {
            t.join(TimeUnit.SECONDS.toMillis(WAIT_S));
            assertFalse(t.isAlive(), t.getName() + " is stuck at the gate");
        }
        assertEquals(0, violations.get(), "a request was inside while the gate was closed");
        assertTrue(servedDuringSwaps > 0, "no request got through between the swaps");
        assertEquals(0, gate.inFlight());
    }

    @Test
    void waitingRequestsLogNothingThemselvesTheOpenerWritesTheirLinesWithTheirTimes() throws Exception {
        try (LogCapture log = new LogCapture(SwapGate.class.getName())) {
            gate.close(10_000);
            int n = 5;
            CountDownLatch entered = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                String what = "GET /r" + i;
                start("waiter-" + i, () -> {
                    try (SwapGate.Pass pass = gate.enter(what)) {
                        entered.countDown();
                    }
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while (gate.waiting() < n && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(n, gate.waiting());
            assertEquals(List.of(), log.messages(), "a waiting request wrote to the log itself");

            SwapGate.Released released = gate.open();
            await(entered, "every waiter after open()");
            assertEquals(n, released.waited());
            assertEquals(List.of(), log.messages(), "a released request wrote to the log itself");

            released.announce();
            assertEquals(n, log.countStartingWith("request queued, waiting for swap to complete: GET /r"), log.dump());
            assertEquals(n, log.countStartingWith("swap complete, resuming request: GET /r"), log.dump());
            for (java.util.logging.LogRecord r : log.records()) {
                assertFalse(r.getInstant().isAfter(released.at()), "a line dated after the gate opened: " + r.getMessage());
                assertEquals(SwapGate.class.getName(), r.getSourceClassName());
            }
        }
    }
}
