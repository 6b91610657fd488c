package hotswap;

import hotswap.wire.CopyRequest;
import hotswap.wire.Frames;
import java.nio.file.Path;
import java.util.stream.Collectors;

/** Decides whether a {@code cp} is a push or a pull: exactly one side must be a managed database. */
final class CopyCommand {
    private final Hotswap hotswap;
    private final CopyRequest request;
    private final Frames frames;
    private final Session session;

    CopyCommand(Hotswap hotswap, CopyRequest request, Frames frames, Session session) {
        this.hotswap = hotswap;
        this.request = request;
        this.frames = frames;
        this.session = session;
    }

    /**
     * Runs the push or pull.
     *
     * @return what to close once the client has its exit status
     */
    AutoCloseable run() throws CommandFailure {
        ManagedDatabase source = managed(request.source());
        ManagedDatabase destination = managed(request.destination());
        if (source != null && destination != null) {
            throw new CommandFailure("both " + request.source() + " and " + request.destination()
                    + " are managed databases; one side of cp must be a local file or -");
        }
        if (destination != null) {
            return new Push(hotswap, destination, request, frames, session).run();
        } else if (source != null) {
            refuseSidecar(request.destination());
            return new Pull(source, request, frames).run();
        } else {
            throw new CommandFailure("neither " + request.source() + " nor " + request.destination()
                    + " is a managed database; managed: "
                    + hotswap.databases().stream().map(db -> db.path().toString()).collect(Collectors.joining(", ")));
        }
    }

    /**
     * A pull renames a database over its destination: over a managed database's -wal, -shm or
     * -journal, the app would take it for its journal, fail, and lose the transactions the old one held.
     */
    private void refuseSidecar(String path) throws CommandFailure {
        Path local;
        try {
            local = Hotswap.realPath(Path.of(path));
        } catch (RuntimeException e) {
            return; // not resolvable here: not a file beside a managed database either
        }
        for (ManagedDatabase db : hotswap.databases()) {
            for (String suffix : TempFiles.SIDECARS) {
                if (local.equals(db.path().resolveSibling(db.path().getFileName() + suffix))) {
                    throw new CommandFailure(path + " is a file SQLite keeps beside the managed database " + db.path()
                            + "; nothing changed. Pull to another file");
                }
            }
        }
    }

    private ManagedDatabase managed(String path) {
        return CopyRequest.STDIO.equals(path) ? null : hotswap.findManaged(path);
    }
}
