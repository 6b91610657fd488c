package hotswap.bench;

/** The hello-world JVM that client start-up and client memory are compared with. */
public final class Hello {
    private Hello() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("hello");
        if (args.length > 0) {
            Thread.sleep(Long.parseLong(args[0])); // lets a sampler read the peak RSS of a live process
        }
    }
}
