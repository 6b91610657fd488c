package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Delta;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.PageHashes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The client's side of a delta push ({@link Delta}): it hashes the source while the app takes a
 * snapshot of its database, answers the app's hashes, and sends the pages that differ.
 */
final class DeltaPush {
    private final Path source;
    private final CopyRequest.Pages pages;
    private final CompletableFuture<PageHashes> hashing = new CompletableFuture<>();
    /** The source, open while it is hashed and sent; null before {@link #start}. */
    private FileChannel file;

    private DeltaPush(Path source, CopyRequest.Pages pages) {
        this.source = source;
        this.pages = pages;
    }

    /**
     * Reads {@code source}'s header, or returns null when it is not a SQLite file of whole pages:
     * then it goes whole, and the app's checks say what is wrong with it.
     */
    static DeltaPush prepare(Path source) throws Failure {
        CopyRequest.Pages pages = shape(source);
        return pages == null ? null : new DeltaPush(source, pages);
    }

    /**
     * Starts hashing the source on a thread of its own; does nothing the second time. Until now the
     * file was not held open: it may be the app's live database, on which the app counts open files.
     */
    void start() throws Failure {
        if (file != null) {
            return;
        }
        try {
            file = FileChannel.open(source, StandardOpenOption.READ);
            if (!pages.equals(PageHashes.shape(file))) {
                throw new IOException("it changed while being sent");
            }
        } catch (IOException e) {
            abandon();
            throw new Failure("cannot read " + source + ": " + Failures.describe(e) + "; nothing changed");
        }
        FileChannel in = file;
        Thread t = new Thread(() -> {
            try {
                hashing.complete(PageHashes.of(in, pages.pageSize(), pages.count(), n -> { }, null));
            } catch (IOException | RuntimeException e) {
                hashing.completeExceptionally(e);
            }
        }, "hotswap-hash");
        t.setDaemon(true);
        t.start();
    }

    /** The file's pages by its header, or null when it is not a SQLite file of whole pages; the file is closed again. */
    static CopyRequest.Pages shape(Path file) throws Failure {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            return PageHashes.shape(in);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new Failure("cannot read " + file + ": " + Failures.describe(e) + "; nothing changed");
        }
    }

    CopyRequest.Pages pages() {
        return pages;
    }

    /**
     * Steps 2 and 4 of the exchange: answers the app's range hashes and reads its page hashes.
     *
     * @param appPages the live snapshot's page count, from the app's {@code delta} message
     * @return what sends the changed pages, for the upload thread
     */
    CopyClient.Upload exchange(Frames frames, Delta.Reader reader, int appPages, boolean compress, Progress progress)
            throws IOException, Failure {
        progress.phase("hashing");
        start();
        PageHashes mine = hashes();
        Delta delta = new Delta(pages.pageSize(), appPages, pages.count(), frames, Channel.DATA_IN, reader);
        progress.phase("comparing");
        delta.answerRanges(mine);
        BitSet changed = delta.changedPages(mine);
        progress.total((long) changed.cardinality() * pages.pageSize());
        progress.phase(Progress.pagesPhase("sending", changed.cardinality(), pages.count()));
        FileChannel in = file;
        return () -> {
            try (in) {
                delta.sendPages(in, changed, mine.root(), compress, progress::add);
            } catch (Delta.ReadFailure e) {
                throw new Delta.ReadFailure("cannot read " + source + ": " + e.getMessage());
            }
        };
    }

    private PageHashes hashes() throws Failure {
        try {
            return hashing.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PageHashes.OutOfMemory) {
                throw new Failure(e.getCause().getMessage() + "; nothing changed. Push with --no-delta, or give the client "
                        + "more memory (JAVA_TOOL_OPTIONS=-Xmx...)");
            }
            throw new Failure("cannot read " + source + ": " + Failures.describe(e.getCause()) + "; nothing changed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while reading " + source + "; nothing changed");
        }
    }

    /** The app wants the whole file after all: reading it for hashes is of no use. */
    void abandon() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // read-only: nothing to lose
            }
        }
    }
}
