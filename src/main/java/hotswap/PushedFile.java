package hotswap;

import hotswap.wire.Failures;
import hotswap.wire.Reads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The checks a pushed file passes before it may replace a live database: a SQLite header whose
 * page size and page count agree with the bytes received, then SQLite's own integrity check, then
 * a schema comparison with the live database. Each failure is a {@link CommandFailure} whose
 * message says what is wrong with the file.
 */
final class PushedFile {
    private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 100;
    private static final int MAX_REPORTED_PROBLEMS = 5;

    private final Path file;

    PushedFile(Path file) {
        this.file = file;
    }

    /** How many first bytes {@link #checkStart} needs. */
    static final int START_BYTES = 16;

    /**
     * Checks the first {@link #START_BYTES} bytes of a push while it is still arriving: a stream that
     * is no SQLite database from its start (and may never end: a device, /dev/zero) is refused at once,
     * not once it has filled the disk beside the live database.
     */
    static void checkStart(byte[] start) throws CommandFailure {
        checkMagic(start, start.length);
    }

    /** Refuses gzip, then anything that does not start as SQLite does; {@code first} holds the first {@code size} bytes. */
    private static void checkMagic(byte[] first, long size) throws CommandFailure {
        if (size >= 2 && (first[0] & 0xff) == 0x1f && (first[1] & 0xff) == 0x8b) {
            throw new CommandFailure("the source is gzip-compressed, not a SQLite database; nothing changed. "
                    + "Decompress it on the way in: gunzip -c FILE.gz | hotswap cp - DB");
        }
        if (size < MAGIC.length || !Arrays.equals(first, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new CommandFailure("the source is not a SQLite database (it does not start with \"SQLite format 3\"); nothing changed. "
                    + "Check that you are pushing the right file");
        }
    }

    /** Reads the 100-byte header and checks it against the file's size. Returns true for WAL mode. */
    boolean checkHeader() throws CommandFailure, IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            Reads.readFully(ch, header, 0); // a shorter file is checked by its size below
        }
        header.flip();
        if (size == 0) {
            throw new CommandFailure("received 0 bytes: the source is empty; nothing changed. Check the source path or the command that feeds the pipe");
        }
        checkMagic(header.array(), size);
        if (size < HEADER_BYTES) {
            throw new CommandFailure("the source is truncated: " + size + " bytes is shorter than a SQLite header (100 bytes); nothing changed");
        }
        int pageSize = header.getShort(16) & 0xffff;
        if (pageSize == 1) {
            pageSize = 65536;
        }
        if (pageSize < 512 || Integer.bitCount(pageSize) != 1) {
            throw new CommandFailure("the source's header is damaged: page size " + pageSize + " is not a power of two from 512 to 65536; nothing changed");
        }
        if (size % pageSize != 0) {
            throw new CommandFailure("the source is truncated or padded: " + size + " bytes is not a whole number of "
                    + pageSize + "-byte pages; nothing changed. Was the copy interrupted?");
        }
        long changeCounter = header.getInt(24) & 0xffffffffL;
        long pages = header.getInt(28) & 0xffffffffL;
        long validFor = header.getInt(92) & 0xffffffffL;
        // The in-header page count is trustworthy only when its version stamp matches (fileformat2.html §1.3.7).
        if (pages > 0 && changeCounter == validFor && size < pages * pageSize) {
            throw new CommandFailure("the source is truncated: its header says " + pages + " pages of " + pageSize
                    + " bytes (" + pages * pageSize + " bytes) but " + size + " bytes arrived; nothing changed. Was the copy interrupted?");
        }
        return header.get(18) == 2 && header.get(19) == 2;
    }

    /**
     * Runs {@code PRAGMA integrity_check} (or {@code quick_check}) and fails unless it says ok.
     * {@code running} gets the check's statement before it runs, and null once it has ended: a
     * check of a large file takes seconds, and a server that is stopping cancels it.
     */
    void checkIntegrity(boolean quick, Consumer<Statement> running) throws CommandFailure {
        String pragma = quick ? "quick_check" : "integrity_check";
        List<String> rows = new ArrayList<>();
        try (Connection c = Sqlite.openReadOnly(file); Statement s = c.createStatement()) {
            running.accept(s);
            try (ResultSet r = s.executeQuery("PRAGMA " + pragma + "(" + (MAX_REPORTED_PROBLEMS + 1) + ")")) {
                while (r.next()) {
                    rows.add(r.getString(1));
                }
            } finally {
                running.accept(null);
            }
        } catch (SQLException e) {
            // A badly damaged file makes the check throw (SQLITE_CORRUPT, SQLITE_NOTADB) instead of returning rows.
            throw new CommandFailure(pragma.replace('_', ' ') + " failed: " + Failures.describe(e)
                    + "; nothing changed. The file is damaged: rebuild it, or pull a fresh copy");
        }
        if (!rows.equals(List.of("ok"))) {
            List<String> shown = rows.subList(0, Math.min(rows.size(), MAX_REPORTED_PROBLEMS));
            throw new CommandFailure(pragma.replace('_', ' ') + " failed: " + String.join("; ", shown)
                    + (rows.size() > MAX_REPORTED_PROBLEMS ? "; ..." : "")
                    + "; nothing changed. The file is damaged: rebuild it, or push with --skip-integrity-check if you know better");
        }
    }

    /** The schema as sorted SQL statements, without SQLite's internal tables. */
    static List<String> schema(Connection c) throws SQLException {
        List<String> sql = new ArrayList<>();
        for (String s : Sqlite.column(c, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")) {
            sql.add(s.strip().replaceAll("\\s+", " "));
        }
        sql.sort(null);
        return sql;
    }

    /**
     * Compares this file's schema with {@code live}. On a difference the failure's message starts
     * with {@code schema mismatch}, then one {@code - old} or {@code + new} line per statement.
     */
    void checkSchema(List<String> live) throws CommandFailure {
        List<String> pushed;
        try (Connection c = Sqlite.openReadOnly(file)) {
            pushed = schema(c);
        } catch (SQLException e) {
            throw new CommandFailure("could not read the pushed schema: " + Failures.describe(e) + "; nothing changed");
        }
        TreeSet<String> removed = new TreeSet<>(live);
        removed.removeAll(pushed);
        TreeSet<String> added = new TreeSet<>(pushed);
        added.removeAll(live);
        if (removed.isEmpty() && added.isEmpty()) {
            return;
        }
        StringBuilder message = new StringBuilder("schema mismatch");
        removed.forEach(s -> message.append("\n- ").append(s));
        added.forEach(s -> message.append("\n+ ").append(s));
        message.append("\nNothing changed. Push a database with the live schema, or add --skip-schema-check to replace the schema too");
        throw new CommandFailure(message.toString());
    }

    /** Sets the file's persistent journal mode to WAL or back to rollback (DELETE). */
    void setWal(boolean wal) throws CommandFailure {
        try (Connection c = Sqlite.open(file)) {
            String mode = Sqlite.column(c, "PRAGMA journal_mode=" + (wal ? "WAL" : "DELETE")).get(0);
            if (!mode.equalsIgnoreCase(wal ? "wal" : "delete")) {
                throw new CommandFailure("could not set the pushed file's journal mode to " + (wal ? "WAL" : "DELETE") + " (got " + mode + "); nothing changed");
            }
        } catch (SQLException e) {
            throw new CommandFailure("could not set the pushed file's journal mode: " + Failures.describe(e) + "; nothing changed");
        }
    }
}
