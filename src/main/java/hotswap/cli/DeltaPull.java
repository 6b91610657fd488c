package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Delta;
import hotswap.wire.DiskRoom;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.PageHashes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The client's side of a delta pull ({@link Delta}): while the app takes its snapshot, it copies
 * the existing destination to a temp file beside it, hashing each page as it goes; then it trades
 * hashes with the app, writes the pages that arrive into the copy, and leaves the copy to its
 * {@link PullSink} to rename into place. The existing file is only read.
 */
final class DeltaPull {
    private final Path destination;
    private final CopyRequest.Pages pages;
    private final boolean besideTheApp;
    private final CompletableFuture<PageHashes> copying = new CompletableFuture<>();
    private PullSink.ToFile sink;
    private Thread thread;

    private DeltaPull(Path destination, CopyRequest.Pages pages, boolean besideTheApp) {
        this.destination = destination;
        this.pages = pages;
        this.besideTheApp = besideTheApp;
    }

    /**
     * Reads the header of {@code destination}; returns null when there is nothing there to reuse,
     * and says so on {@code progress} when a file is there but is not a SQLite database of whole pages.
     *
     * @param besideTheApp whether the app runs on this machine, so that the copy may share its database's file system
     */
    static DeltaPull prepare(Path destination, Progress progress, boolean besideTheApp) throws Failure {
        if (!Files.isRegularFile(destination)) {
            // A named pipe would block the open until something writes it, and a device has no pages to reuse.
            if (Files.exists(destination)) {
                progress.println("Note: " + destination + " is not a regular file; pulling the whole file");
            }
            return null;
        }
        CopyRequest.Pages pages = DeltaPush.shape(destination);
        if (pages == null && destination.toFile().length() > 0) {
            progress.println("Note: " + destination + " is not a SQLite database of whole pages; pulling the whole file");
        }
        return pages == null ? null : new DeltaPull(destination, pages, besideTheApp);
    }

    /**
     * Starts copying the destination to a temp file beside it, on a thread of its own, hashing
     * its pages as they go; does nothing the second time.
     */
    void start() throws Failure {
        if (sink != null) {
            return;
        }
        FileChannel existing;
        try {
            existing = FileChannel.open(destination, StandardOpenOption.READ);
            if (!pages.equals(PageHashes.shape(existing))) {
                existing.close();
                throw new IOException("it changed while being read");
            }
        } catch (IOException e) {
            throw new Failure("cannot read " + destination + ": " + Failures.describe(e) + "; nothing changed");
        }
        try {
            sink = PullSink.ToFile.forCopy(destination);
        } catch (IOException e) {
            try {
                existing.close();
            } catch (IOException ignored) {
                // read-only
            }
            throw e instanceof PullSink.Refused ? new Failure(e.getMessage()) : cannotWriteBeside(e);
        }
        PullSink.ToFile copy = sink;
        thread = new Thread(() -> {
            try (existing) {
                copying.complete(PageHashes.of(existing, pages.pageSize(), pages.count(), n -> { }, copy.file()));
            } catch (IOException | RuntimeException e) {
                copying.completeExceptionally(e);
            }
        }, "hotswap-copy");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Refuses, before the copy starts, a copy that would take the reserve pushes and snapshots leave
     * for the app's own writes (DiskRoom): beside an app on this machine it may share the database's
     * file system, where the app's snapshot already takes room. The copy starts as large as the
     * destination and grows to the snapshot's {@code appPages} when those are more.
     */
    void refuseToTakeTheAppsReserve(int appPages) throws Failure {
        if (!besideTheApp) {
            return;
        }
        long needed = (long) pages.pageSize() * Math.max(pages.count(), appPages);
        try {
            DiskRoom room = DiskRoom.of(destination.toAbsolutePath().getParent());
            if (room.spare() < needed) {
                throw new Failure("no room beside " + destination + " for the copy a delta pull patches: it needs " + needed
                        + " bytes, and " + room.describe() + ", should this be its file system; nothing changed. Pull without "
                        + "--delta (on the database's own file system a whole pull is a hard link, which takes no room), or free some space");
            }
        } catch (IOException e) {
            throw cannotWriteBeside(e);
        }
    }

    private Failure cannotWriteBeside(IOException e) {
        return new Failure("cannot write beside " + destination + ": " + Failures.describe(e) + "; nothing changed");
    }

    CopyRequest.Pages pages() {
        return pages;
    }

    /** Where the pull goes: the copy {@link #start} made. */
    PullSink sink() throws Failure {
        start();
        return sink;
    }

    /**
     * Steps 1, 3 and 4 of the exchange, then syncs the patched copy. The sink renames it into
     * place once the app reports success.
     *
     * @param appPages the snapshot's page count, from the app's {@code delta} message
     * @param mode     the live database's permission bits, which the copy takes less the umask
     */
    void exchange(Frames frames, Delta.Reader reader, int appPages, Set<PosixFilePermission> mode, Progress progress)
            throws IOException, Failure {
        progress.phase("hashing");
        start();
        PageHashes mine = copied();
        try {
            sink.adoptMode(mode);
        } catch (IOException e) {
            throw notWritten(Failures.describe(e));
        }
        Delta delta = new Delta(pages.pageSize(), pages.count(), appPages, frames, Channel.DATA_IN, reader);
        progress.phase("comparing");
        delta.sendRanges(mine);
        delta.answerGroups(mine);
        try {
            delta.receivePages(mine, sink.file(), count -> {
                progress.total(count * pages.pageSize());
                progress.phase(Progress.pagesPhase("receiving", (int) count, appPages));
            }, progress::add);
        } catch (Delta.WriteFailure e) {
            throw notWritten(e.getMessage());
        } catch (PageHashes.OutOfMemory e) {
            throw new Failure(e.getMessage() + "; " + destination + " was not changed. Pull with --no-delta, or give "
                    + "the client more memory (JAVA_TOOL_OPTIONS=-Xmx...)");
        }
        try {
            sink.finish();
        } catch (IOException e) {
            throw new Failure(e.getMessage());
        }
    }

    /** Writing the copy failed: the destination was only read. */
    private Failure notWritten(String why) {
        return new Failure("cannot write " + destination + ": " + why + "; it was not changed. Free some space in "
                + destination.getParent() + " and pull again");
    }

    private PageHashes copied() throws Failure {
        try {
            return copying.get();
        } catch (ExecutionException e) {
            throw new Failure("cannot copy " + destination + " to patch it: " + Failures.describe(e.getCause()) + "; it was not changed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while copying " + destination + "; it was not changed");
        }
    }

    /** The app sends the whole snapshot after all: the copy is of no use. */
    void abandon() {
        if (thread != null) {
            thread.interrupt();
            sink.discard();
        }
    }
}
