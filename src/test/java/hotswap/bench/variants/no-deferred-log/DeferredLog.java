package hotswap;

import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The B side of {@code make bench}'s A/B of the swap's deferred log lines: the same API as the
 * real {@code hotswap.DeferredLog}, writing each record as it is made, so {@link #publish()} has
 * nothing left. Compiled on its own and put ahead of the jar on the bench app's class path; never
 * in the jar or the tests.
 */
final class DeferredLog {
    private final Logger logger;
    private final String sourceClass;

    DeferredLog(Logger logger, Class<?> source) {
        this.logger = logger;
        this.sourceClass = source.getName();
    }

    void info(Supplier<String> message) {
        log(Level.INFO, message, null, null);
    }

    void info(Instant at, Supplier<String> message) {
        log(Level.INFO, message, null, at);
    }

    void warning(Supplier<String> message) {
        log(Level.WARNING, message, null, null);
    }

    void fine(Supplier<String> message) {
        log(Level.FINE, message, null, null);
    }

    void severe(String message, Throwable thrown) {
        log(Level.SEVERE, () -> message, thrown, null);
    }

    private void log(Level level, Supplier<String> message, Throwable thrown, Instant at) {
        if (!logger.isLoggable(level)) {
            return;
        }
        LogRecord r = new LogRecord(level, message.get());
        r.setLoggerName(logger.getName());
        r.setSourceClassName(sourceClass);
        r.setThrown(thrown);
        if (at != null) {
            r.setInstant(at);
        }
        logger.log(r);
    }

    void add(List<LogRecord> records) {
        for (LogRecord r : records) {
            Logger.getLogger(r.getLoggerName()).log(r);
        }
    }

    void publish() {
    }
}
