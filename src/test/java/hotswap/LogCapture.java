package hotswap;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Records what one of the library's loggers (and the loggers below it) logs while a test runs.
 * Attached on construction, detached by {@link #close()}.
 */
final class LogCapture implements AutoCloseable {
    /** Held strongly so the logger, and the handler on it, is not collected during the test. */
    private final Logger logger;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private volatile Expectation expected;
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
            Expectation e = expected;
            if (e != null && message(record).startsWith(e.prefix())) {
                e.latch().countDown();
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private record Expectation(String prefix, CountDownLatch latch) {
    }

    /** Starts capturing the logger named {@code loggerName}, e.g. "hotswap" or a class's name. */
    LogCapture(String loggerName) {
        logger = Logger.getLogger(loggerName);
        handler.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    private static String message(LogRecord r) {
        return r.getMessage() == null ? "" : r.getMessage();
    }

    /** Every record so far, oldest first. */
    List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** Every record's message so far ("" for none), oldest first. */
    List<String> messages() {
        return records.stream().map(LogCapture::message).toList();
    }

    /** Whether a record at exactly {@code level} has a message containing {@code fragment}. */
    boolean contains(Level level, String fragment) {
        return records.stream().anyMatch(r -> r.getLevel().equals(level) && message(r).contains(fragment));
    }

    /** How many messages so far start with {@code prefix}. */
    long countStartingWith(String prefix) {
        return records.stream().filter(r -> message(r).startsWith(prefix)).count();
    }

    /** The records so far, one a line, for failure messages. */
    String dump() {
        return records.stream().map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage())
                .collect(Collectors.joining("\n"));
    }

    /** Arms {@link #await}: from now on, the first message starting with {@code prefix} releases it. */
    void expect(String prefix) {
        expected = new Expectation(prefix, new CountDownLatch(1));
    }

    /** Waits for the message {@link #expect} armed; false when it did not come in time. */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        Expectation e = expected;
        if (e == null) {
            throw new IllegalStateException("await without expect");
        }
        return e.latch().await(timeout, unit);
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
