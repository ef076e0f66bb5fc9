use combtest::prelude::*;

fn main() {
    let sizes = vec![1u32, 10, 100];

    #[action(options = sizes.clone())]
    fn allocate(size: u32, buffers: &mut Vec<Vec<u8>>) {
        buffers.push(vec![0; size as usize]);
    }

    let _ = combtest! { order: [allocate], state: Vec::new() };
}
