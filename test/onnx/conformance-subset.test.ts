/**
 * A fixed, fast subset of the ONNX backend node tests (Debian's libonnx-testdata), one or
 * two per op family, run on the GPU as `npm run conformance` runs all of them.
 */

import { expect } from 'chai';
import { join } from 'node:path';
import { NODE_TESTS, runBackendTest } from '../../scripts/onnx-backend-test.js';
import { gpu } from '../gpu/harness.js';

const PASSING: Readonly<Record<string, readonly string[]>> = {
  'elementwise arithmetic, comparison and logic': [
    'add_bcast', 'sub_example', 'mul_bcast', 'div_bcast', 'pow_bcast_array', 'mod_mixed_sign_int32',
    'equal_bcast', 'and_bcast4v3d', 'where_long_example', 'clip_splitbounds', 'cast_DOUBLE_to_FLOAT', 'bitshift_right_uint16', 'bitshift_left_uint64',
  ],
  'unary math and activations': ['sinh', 'asinh', 'asin', 'acos', 'atan', 'selu', 'hardswish', 'prelu_broadcast'],
  'matrix products': ['matmul_4d', 'gemm_all_attributes'],
  'layout': [
    'reshape_negative_extended_dims', 'flatten_negative_axis1', 'transpose_all_permutations_3', 'concat_3d_axis_negative_2',
    'split_variable_parts_2d', 'slice_neg_steps', 'edge_pad', 'reflect_pad', 'expand_dim_changed', 'tile', 'depthtospace_crd_mode',
  ],
  'indexing': ['gather_negative_indices', 'gather_elements_negative_indices', 'onehot_negative_indices', 'compress_negative_axis', 'tril_neg', 'tril_zero',
    'gathernd_example_int32_batch_dim1', 'scatternd_multiply', 'scatter_elements_with_duplicate_indices', 'scatter_with_axis', 'reversesequence_batch'],
  'reductions and scans': [
    'reduce_sum_negative_axes_keepdims_random', 'reduce_log_sum_exp_keepdims_random', 'reduce_l2_do_not_keepdims_random',
    'argmax_keepdims_random_select_last_index', 'cumsum_2d_negative_axis', 'top_k_smallest',
  ],
  'softmax family and losses': ['softmax_example', 'logsoftmax_axis_0_expanded', 'hardmax_axis_1', 'nllloss_NCd1d2d3_sum_weight_high_ii', 'sce_mean_weight_ii_3d_log_prob'],
  'convolution and pooling': [
    'conv_with_autopad_same', 'convtranspose_output_shape', 'maxpool_2d_same_lower', 'averagepool_2d_pads_count_include_pad', 'globalaveragepool',
  ],
  'normalization and dropout': ['batchnorm_epsilon', 'layer_normalization_3d_axis1_epsilon', 'instancenorm_example', 'lrn', 'mvn_expanded', 'dropout_default_mask'],
  'recurrent layers and einsum': ['lstm_with_peepholes', 'gru_seq_length', 'simple_rnn_batchwise', 'einsum_batch_diagonal', 'einsum_inner_prod'],
  'resize, quantization and storage types': [
    'resize_upsample_scales_linear', 'resize_downsample_scales_cubic_A_n0p5_exclude_outside', 'resize_tf_crop_and_resize',
    'resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric', 'upsample_nearest', 'dequantizelinear_axis', 'quantizelinear',
    'dynamicquantizelinear', 'add_uint8', 'min_uint64', 'max_float16', 'cast_FLOAT_to_FLOAT16', 'castlike_DOUBLE_to_FLOAT16_expanded',
  ],
  'shape computations folded at import': ['shape_start_1_end_negative_1', 'constantofshape_int_zeros', 'range_int32_type_negative_delta', 'hannwindow', 'blackmanwindow_symmetric_expanded'],
};

describe('ONNX backend node tests (a fixed subset) on the GPU', () => {
  for (const [family, tests] of Object.entries(PASSING)) {
    it(`pass within ONNX's tolerances: ${family}`, async function () {
      this.timeout(60000);
      const { device } = await gpu();
      for (const test of tests) {
        const result = await runBackendTest(join(NODE_TESTS, `test_${test}`), device);
        expect(result.status, `test_${test}: ${result.reason ?? ''}`).to.equal('pass');
      }
    });
  }

  it('report what kiln cannot express as unsupported, with the reason', async () => {
    const { device } = await gpu();
    const suppression = await runBackendTest(join(NODE_TESTS, 'test_nonmaxsuppression_suppress_by_IOU'), device);
    expect(suppression).to.deep.include({
      status: 'unsupported',
      reason: "NonMaxSuppression node '#0' (opset 11): the op NonMaxSuppression is not supported by kiln's ONNX importer.",
    });
    const bfloat = await runBackendTest(join(NODE_TESTS, 'test_cast_FLOAT_to_BFLOAT16'), device);
    expect(bfloat.status).to.equal('unsupported');
    expect(bfloat.reason).to.contain('element type BFLOAT16 is not supported');
  });
});
