/* safetensors: being written */
