package hotswap;

import hotswap.wire.FileModes;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Logger;

/**
 * Names and removes hotswap's own files beside a managed database. Every one of them is named
 * {@code .<db name>.hotswap-<random>.<kind>}, so a crash leaves nothing that could be mistaken for
 * the app's files, and {@link #removeOrphans} can find them on the next start.
 */
final class TempFiles {
    private static final Logger LOG = Logger.getLogger(TempFiles.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Files SQLite may create beside a database. */
    static final List<String> SIDECARS = List.of("-wal", "-shm", "-journal");
    /** The kind of a replaced database that {@code --keep-previous} asked to keep: never removed as a leftover. */
    static final String KEEP = "keep";

    private TempFiles() {
    }

    /** A fresh, unused name beside {@code database} for a file of the given kind. */
    static Path beside(Path database, String kind) {
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        return database.resolveSibling(prefix(database) + HexFormat.of().formatHex(id) + "." + kind);
    }

    private static String prefix(Path database) {
        return "." + database.getFileName() + ".hotswap-";
    }

    /** Deletes {@code file} and any SQLite sidecar files beside it. Never throws. */
    static void deleteQuietly(Path file) {
        for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
            Path p = file.resolveSibling(file.getFileName() + suffix);
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.warning(() -> "could not remove " + p + ": " + e.getMessage());
            }
        }
    }

    /**
     * Gives a replaced database that was to be kept a name no cleanup removes:
     * {@code <db>.previous-<UTC time>}, and syncs the directory.
     *
     * @return that name
     */
    static Path rescueKept(Path kept, Path database) throws IOException {
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        Path target = database.resolveSibling(Swap.previousOf(database).getFileName() + "-" + stamp);
        for (int n = 2; Files.exists(target, LinkOption.NOFOLLOW_LINKS); n++) {
            target = database.resolveSibling(Swap.previousOf(database).getFileName() + "-" + stamp + "-" + n);
        }
        Files.move(kept, target, StandardCopyOption.ATOMIC_MOVE);
        FileModes.syncDirectory(database.getParent());
        return target;
    }

    /**
     * Removes files of ours left beside {@code database} by a process that died, except a replaced
     * database that {@code --keep-previous} was keeping: that one gets a name of its own
     * ({@link #rescueKept}).
     */
    static int removeOrphans(Path database) {
        Path dir = database.getParent();
        String prefix = prefix(database);
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
            for (Path orphan : entries) {
                if (orphan.getFileName().toString().endsWith("." + KEEP) && Files.isRegularFile(orphan, LinkOption.NOFOLLOW_LINKS)
                        && !(Files.exists(database) && Files.isSameFile(orphan, database))) {
                    Path kept = rescueKept(orphan, database);
                    LOG.warning(() -> "kept the database a swap replaced before the app stopped as " + kept);
                    continue;
                }
                if (Files.isRegularFile(orphan, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(orphan);
                    removed++;
                    LOG.info(() -> "removed leftover temp file " + orphan);
                }
            }
        } catch (IOException e) {
            LOG.warning(() -> "could not scan " + dir + " for leftover temp files: " + e.getMessage());
        }
        return removed;
    }
}
