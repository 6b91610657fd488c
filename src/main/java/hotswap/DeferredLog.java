package hotswap;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Log records made during a swap, written once the requests it held are served. Writing a log line
 * is I/O behind the handler's lock, and formatting it costs CPU the released requests need; the
 * records keep the time they were made, so the log reads as if they had been written at once.
 */
final class DeferredLog {
    private final Logger logger;
    private final String sourceClass;
    private final List<LogRecord> held = new ArrayList<>();

    DeferredLog(Logger logger, Class<?> source) {
        this.logger = logger;
        this.sourceClass = source.getName();
    }

    void info(Supplier<String> message) {
        add(Level.INFO, message, null);
    }

    /** An INFO record of something that happened at {@code at}, earlier than now. */
    void info(Instant at, Supplier<String> message) {
        LogRecord r = add(Level.INFO, message, null);
        if (r != null) {
            r.setInstant(at);
        }
    }

    void warning(Supplier<String> message) {
        add(Level.WARNING, message, null);
    }

    void fine(Supplier<String> message) {
        add(Level.FINE, message, null);
    }

    void severe(String message, Throwable thrown) {
        add(Level.SEVERE, () -> message, thrown);
    }

    private synchronized LogRecord add(Level level, Supplier<String> message, Throwable thrown) {
        if (!logger.isLoggable(level)) {
            return null;
        }
        LogRecord r = new LogRecord(level, message.get());
        r.setLoggerName(logger.getName());
        r.setSourceClassName(sourceClass); // else it would be inferred, at publish time, as this class
        r.setThrown(thrown);
        held.add(r);
        return r;
    }

    /** Holds records made elsewhere (of any logger) too. */
    synchronized void add(List<LogRecord> records) {
        held.addAll(records);
    }

    /** Writes the held records in the order of their times. */
    void publish() {
        List<LogRecord> out;
        synchronized (this) {
            out = new ArrayList<>(held);
            held.clear();
        }
        out.sort(Comparator.comparing(LogRecord::getInstant)); // stable: records made at the same instant keep their order
        for (LogRecord r : out) {
            Logger.getLogger(r.getLoggerName()).log(r);
        }
    }
}
