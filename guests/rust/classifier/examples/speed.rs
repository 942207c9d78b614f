use classifier::{judge, model::Source, shipped};
fn main() {
    let m = shipped().unwrap();
    let para = "Please review the attached quarterly report and send me your comments by Friday. The numbers for Q3 look fine, but the churn section needs another pass. ";
    let kib: String = para.repeat(8)[..1024].to_string();
    let big: String = para.repeat(700)[..100 * 1024].to_string();
    for (name, t, n) in [("1 KiB", &kib, 2000), ("100 KiB", &big, 20)] {
        let t0 = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(judge(m, t, Source::Attachment));
        }
        println!(
            "{name}: {:.3} ms",
            t0.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
    let t0 = std::time::Instant::now();
    for _ in 0..20 {
        std::hint::black_box(classifier::model::Model::from_bytes(classifier::MODEL).unwrap());
    }
    println!(
        "parse: {:.3} ms",
        t0.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
}
