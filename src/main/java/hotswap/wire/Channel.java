package hotswap.wire;

/** The logical streams multiplexed on the one control socket. Internal to hotswap. */
public enum Channel {
    /** Protocol version exchange; the first frame each side sends. */
    HELLO('H'),
    /** A list of strings: the client's request, or the server's reply that says what comes next. */
    CONTROL('C'),
    /** Database bytes from the client to the server (a push); an empty frame ends them. */
    DATA_IN('I'),
    /**
     * Database bytes from the client to the server, deflated: a whole push whose request allows
     * compression sends a chunk so where that pays ({@link Packer}). The payload is the chunk's
     * length (a four-byte int, at most {@link Protocol#DATA_CHUNK_BYTES}), then the chunk deflated.
     */
    DATA_IN_DEFLATED('Z'),
    /** Database bytes from the server to the client (a pull); an empty frame ends them. */
    DATA_OUT('D'),
    /**
     * Database bytes from the server to the client, deflated: a streamed whole pull whose request
     * allows compression, as {@link #DATA_IN_DEFLATED} (at most {@link Protocol#PULL_CHUNK_BYTES} a chunk).
     */
    DATA_OUT_DEFLATED('Y'),
    /** Text the client prints on its standard output. */
    STDOUT('O'),
    /** Text the client prints on its standard error. */
    STDERR('E'),
    /** The command's exit status, a four-byte int; the last frame the server sends. */
    EXIT('X');

    final byte tag;

    Channel(char tag) {
        this.tag = (byte) tag;
    }

    static Channel of(byte tag) {
        for (Channel c : values()) {
            if (c.tag == tag) {
                return c;
            }
        }
        return null;
    }
}
